//! A spec file's arguments as `create`'s: the spec's command line (`Spec::create_argv`) parsed
//! with the command line's own flags, then merged under the flags given on the command line.
//! Here, not in `spec`, because `CreateArgs` belongs to the command line (`cli`), a layer above
//! the spec (ARCHITECTURE.md: the arrows point one way).

use crate::cli::CreateArgs;
use crate::error::{Error, Result};
use clap::Parser;

/// Only `create`'s arguments, to parse a spec through the same flags as the command line.
#[derive(Parser)]
#[command(no_binary_name = true)]
struct CreateOnly {
    #[command(flatten)]
    args: CreateArgs,
}

/// A spec's `create` command line (`Spec::create_argv`) as `CreateArgs`; clap's complaint, on
/// one line, where it does not parse.
fn parse(argv: &[String]) -> Result<CreateArgs> {
    CreateOnly::try_parse_from(argv)
        .map(|c| c.args)
        .map_err(|e| {
            let first = e.to_string();
            Error::Usage(
                first
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
                    .into(),
            )
        })
}

/// A spec's arguments for `flags` (its backend's create flags) as `CreateArgs`.
pub fn of_spec(spec: &crate::spec::Spec, flags: &[&str]) -> Result<CreateArgs> {
    parse(&spec.create_argv(flags)?)
}

/// The spec's worker groups, each replaced by the command line's group of the same name, and
/// the command line's other groups after them.
fn groups_merged(cli: Vec<String>, spec: Vec<String>) -> Vec<String> {
    let name = |g: &String| g.split(':').next().unwrap_or_default().to_string();
    let given: Vec<String> = cli.iter().map(name).collect();
    let mut out: Vec<String> = spec
        .into_iter()
        .filter(|g| !given.contains(&name(g)))
        .collect();
    out.extend(cli);
    out
}

/// Flags given on the command line win over the spec's.
pub fn merge(cli: CreateArgs, spec: CreateArgs) -> CreateArgs {
    fn vec_or(a: Vec<String>, b: Vec<String>) -> Vec<String> {
        if a.is_empty() { b } else { a }
    }
    CreateArgs {
        backend: cli.backend.or(spec.backend),
        file: None,
        name: cli.name.or(spec.name),
        workers: cli.workers.or(spec.workers),
        threads: cli.threads.or(spec.threads),
        memory: cli.memory.or(spec.memory),
        worker_groups: groups_merged(cli.worker_groups, spec.worker_groups),
        output: cli.output,
        timeout: cli.timeout,
        python: cli.python.or(spec.python),
        host: cli.host.or(spec.host),
        partition: cli.partition.or(spec.partition),
        account: cli.account.or(spec.account),
        walltime: cli.walltime.or(spec.walltime),
        cores: cli.cores.or(spec.cores),
        job_extra: vec_or(cli.job_extra, spec.job_extra),
        dry_run: cli.dry_run,
        native: cli.native || spec.native,
        keep_failed: cli.keep_failed || spec.keep_failed,
        idle_timeout: cli.idle_timeout.or(spec.idle_timeout),
        scheduler_port: cli.scheduler_port.or(spec.scheduler_port),
        instance_type: cli.instance_type.or(spec.instance_type),
        worker_instance_type: cli.worker_instance_type.or(spec.worker_instance_type),
        machine_type: cli.machine_type.or(spec.machine_type),
        worker_machine_type: cli.worker_machine_type.or(spec.worker_machine_type),
        zone: cli.zone.or(spec.zone),
        ami: cli.ami.or(spec.ami),
        subnet: cli.subnet.or(spec.subnet),
        security_group: vec_or(cli.security_group, spec.security_group),
        options: vec_or(cli.options, spec.options),
        key_name: cli.key_name.or(spec.key_name),
        spot: cli.spot || spec.spot,
        ttl: cli.ttl.or(spec.ttl),
        resources: cli.resources.or(spec.resources),
        image: cli.image.or(spec.image),
        cloud: crate::cli::CloudArgs {
            regions: vec_or(cli.cloud.regions, spec.cloud.regions),
            namespace: cli.cloud.namespace.or(spec.cloud.namespace),
            ..cli.cloud
        },
    }
}
