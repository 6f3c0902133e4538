//! The command-line contract (see the README). Scripts and tests depend on these names.

use crate::units::parse_duration;
use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::ArgValueCompleter;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "daskctl",
    version,
    about = "Find, scale, inspect and delete Dask clusters wherever they run",
    after_help = "Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 partial failure, 5 refused"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More detail on stderr (-v info, -vv debug)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Never connect to schedulers: report what the backends alone know
    #[arg(long, global = true)]
    pub no_probe: bool,
}

/// Where the cloud backends look: on every verb that discovers or creates clusters (and only
/// there). The same settings can live in the config file.
#[derive(Args, Debug, Clone, Default)]
pub struct CloudArgs {
    /// [aws] Regions to query, comma-separated or repeated (default: the profile's or AWS_REGION)
    #[arg(
        long = "region",
        value_delimiter = ',',
        value_name = "REGION",
        help_heading = "Cloud backends"
    )]
    pub regions: Vec<String>,
    /// [kubernetes] kubeconfig context
    #[arg(long, value_name = "CONTEXT", help_heading = "Cloud backends")]
    pub context: Option<String>,
    /// [kubernetes] Only this namespace (create: where to create; default: the context's)
    #[arg(long, value_name = "NS", help_heading = "Cloud backends")]
    pub namespace: Option<String>,
    /// [kubernetes] Every namespace (the default for list and cleanup)
    #[arg(
        short = 'A',
        long,
        conflicts_with = "namespace",
        help_heading = "Cloud backends"
    )]
    pub all_namespaces: bool,
    /// [aws] Named profile from ~/.aws/config
    #[arg(long, value_name = "PROFILE", help_heading = "Cloud backends")]
    pub profile: Option<String>,
    /// [gcp] Projects to query, comma-separated or repeated (default: gcloud's project)
    #[arg(
        long = "project",
        value_delimiter = ',',
        value_name = "PROJECT",
        help_heading = "Cloud backends"
    )]
    pub projects: Vec<String>,
}

/// Whose clusters: for administrators (root sees every user's processes and state; a batch
/// system shows every user's jobs to anyone, acting on them needs its operator rights).
#[derive(Args, Debug, Clone, Default)]
pub struct UsersArgs {
    /// Every user's clusters, where you may see them (acting on another user's needs it too)
    #[arg(long, help_heading = "Users", conflicts_with = "users")]
    pub all_users: bool,
    /// This user's clusters besides yours (repeatable)
    #[arg(short = 'u', long = "user", value_name = "USER", help_heading = "Users", value_parser = user_name)]
    pub users: Vec<String>,
}

/// A Unix user name as useradd(8) allows it (and nothing a command line could misread).
fn user_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not a user name"))
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List clusters across all enabled backends
    #[command(visible_alias = "ls")]
    #[command(
        after_help = "Examples:\n  daskctl list\n  daskctl list -o wide --status orphaned\n  daskctl list -b slurm -o json\n  daskctl list --watch"
    )]
    List(ListArgs),
    /// Show one cluster in detail
    #[command(
        after_help = "Examples:\n  daskctl describe etl\n  daskctl describe slurm/etl -o yaml"
    )]
    Describe(DescribeArgs),
    /// Create a cluster
    #[command(
        after_help = "Examples:\n  daskctl create local --name etl --workers 4\n  daskctl create slurm --name etl --workers 10 --memory 8GiB --walltime 02:00:00\n  daskctl create -f cluster.yaml\n  daskctl create kubernetes --name etl --dry-run"
    )]
    Create(Box<CreateArgs>),
    /// Set a cluster's number of workers
    #[command(
        after_help = "Examples:\n  daskctl scale etl 20\n  daskctl scale etl 0 --wait\n  daskctl scale etl 4 --group gpu"
    )]
    Scale(ScaleArgs),
    /// Show a cluster's scheduler and worker logs
    #[command(
        after_help = "Examples:\n  daskctl logs etl\n  daskctl logs etl --scheduler --tail 50\n  daskctl logs etl --follow"
    )]
    Logs(LogsArgs),
    /// Delete a cluster and everything it runs
    #[command(visible_alias = "rm")]
    #[command(after_help = "Examples:\n  daskctl delete etl\n  daskctl delete slurm/etl --yes")]
    Delete(DeleteArgs),
    /// Delete orphaned, idle or old clusters (previews unless --yes)
    #[command(
        after_help = "Examples:\n  daskctl cleanup --orphaned\n  daskctl cleanup --orphaned --older-than 2h --yes   (cron)\n  daskctl cleanup --idle 1h -b kubernetes"
    )]
    Cleanup(CleanupArgs),
    /// Print Python code that connects a Client to a cluster
    #[command(
        after_help = "Examples:\n  daskctl snippet etl\n  python -c \"$(daskctl snippet etl)\""
    )]
    Snippet(SnippetArgs),
    /// Set or clear a cluster's adaptive scaling policy (applied by `reconcile`)
    #[command(
        after_help = "Examples:\n  daskctl adapt etl --minimum 1 --maximum 20\n  daskctl adapt etl --off\n  daskctl reconcile --watch   (applies the policy)"
    )]
    Adapt(AdaptArgs),
    /// Apply every stored policy once (adaptive scaling), or keep doing it with --watch
    #[command(
        after_help = "Examples:\n  daskctl reconcile\n  daskctl reconcile --yes   (cron: also ends clusters past their TTL or idle timeout)\n  daskctl reconcile --watch"
    )]
    Reconcile(ReconcileArgs),
    /// Create the cluster a spec file describes, or bring an existing one to it
    #[command(
        after_help = "Examples:\n  daskctl apply -f cluster.yaml\n  daskctl apply -f cluster.yaml -o json"
    )]
    Apply(ApplyArgs),
    /// List, enable or disable backends
    Backends {
        #[command(subcommand)]
        action: Option<BackendsAction>,
    },
    /// Serve a page, a JSON API and Prometheus metrics of every cluster (token required)
    #[command(
        after_help = "Examples:\n  daskctl serve\n  daskctl serve --bind 0.0.0.0:8080 --tls-cert cert.pem --tls-key key.pem\n  daskctl serve --read-only --all-users"
    )]
    Serve(ServeArgs),
    /// Cores, core-hours and cost held by clusters: busy, idle and orphaned, and what cleanup
    /// would free
    #[command(
        after_help = "Examples:\n  daskctl usage\n  daskctl usage --by user --all-users\n  daskctl usage --textfile /var/lib/node_exporter/daskctl.prom"
    )]
    Usage(UsageArgs),
    /// Print a shell completion script
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// (internal) act on one of this user's local clusters for root, as this user
    #[command(name = "__as-owner", hide = true)]
    AsOwner,
}

impl Command {
    /// The cloud backends' flags, on the verbs that take them.
    pub fn cloud(&self) -> Option<&CloudArgs> {
        match self {
            Command::List(a) => Some(&a.cloud),
            Command::Describe(a) => Some(&a.cloud),
            Command::Create(a) => Some(&a.cloud),
            Command::Scale(a) => Some(&a.cloud),
            Command::Logs(a) => Some(&a.cloud),
            Command::Delete(a) => Some(&a.cloud),
            Command::Cleanup(a) => Some(&a.cloud),
            Command::Usage(a) => Some(&a.cloud),
            Command::Snippet(a) => Some(&a.cloud),
            Command::Adapt(a) => Some(&a.cloud),
            Command::Reconcile(a) => Some(&a.cloud),
            Command::Apply(a) => Some(&a.cloud),
            Command::Backends { .. }
            | Command::Completions { .. }
            | Command::Serve(_)
            | Command::AsOwner => None,
        }
    }

    /// Whose clusters the command is about (`--all-users`, `-u`), where it takes them.
    pub fn users(&self) -> Option<&UsersArgs> {
        match self {
            Command::List(a) => Some(&a.users),
            Command::Describe(a) => Some(&a.users),
            Command::Scale(a) => Some(&a.users),
            Command::Logs(a) => Some(&a.users),
            Command::Delete(a) => Some(&a.users),
            Command::Cleanup(a) => Some(&a.users),
            Command::Usage(a) => Some(&a.users),
            Command::Serve(a) => Some(&a.users),
            Command::Reconcile(a) => Some(&a.users),
            _ => None,
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Wide,
    Json,
    Yaml,
    Name,
}

/// What `list --sort-by` orders by.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    /// Oldest first
    Age,
    /// Most workers first
    Workers,
    /// Idle longest first (busy and unknown last)
    Idle,
    Backend,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

/// Completes cluster names (see `crate::complete`).
fn cluster_names() -> ArgValueCompleter {
    ArgValueCompleter::new(crate::complete::cluster_names)
}

/// Completes backend names.
fn backend_names() -> ArgValueCompleter {
    ArgValueCompleter::new(crate::complete::backend_names)
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only these backends (repeatable)
    #[arg(short, long = "backend", value_name = "BACKEND", add = backend_names())]
    pub backends: Vec<String>,
    /// Only clusters with this status (repeatable)
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Vec<crate::model::Status>,
    /// Order of the clusters (default: backend, then name)
    #[arg(long, value_enum, value_name = "KEY")]
    pub sort_by: Option<SortKey>,
    /// Table rows only, no header line (for scripts reading the table)
    #[arg(long)]
    pub no_headers: bool,
    /// List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing
    /// after another otherwise (json: one line per listing; yaml: one document per listing)
    #[arg(short, long)]
    pub watch: bool,
    /// Time between listings with --watch
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "2s", requires = "watch")]
    pub interval: Duration,
    /// Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: ListFormat,
    /// Deadline for each backend (seconds, or 500ms, 1m)
    #[arg(long, value_name = "SECS", value_parser = duration)]
    pub timeout: Option<Duration>,
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub users: UsersArgs,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8790")]
    pub bind: std::net::SocketAddr,
    /// Time between discoveries (requests read the latest one)
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "10s")]
    pub interval: Duration,
    /// Deadline for each backend in each discovery (seconds, or 500ms, 1m)
    #[arg(long, value_name = "SECS", value_parser = duration)]
    pub timeout: Option<Duration>,
    /// No scale or delete from the page
    #[arg(long)]
    pub read_only: bool,
    /// Serve HTTPS with this PEM certificate (chain)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert (read once, never printed or copied)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub users: UsersArgs,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsageFormat {
    #[default]
    Table,
    Json,
    Csv,
    /// Prometheus text, for node_exporter's textfile collector
    Prom,
}

#[derive(Args, Debug)]
pub struct UsageArgs {
    /// Group by owner, backend or status
    #[arg(long, value_enum, default_value = "user")]
    pub by: crate::usage::report::By,
    /// Count core-hours and cost from this long ago only (e.g. 24h); default: since each
    /// resource started
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub since: Option<Duration>,
    /// A scheduler idle at least this long counts as idle (what `cleanup --idle` with it
    /// would take)
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "30m")]
    pub idle: Duration,
    /// Output: a table, json, csv, or prom (Prometheus text)
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: UsageFormat,
    /// Write Prometheus text to this file (atomically, for node_exporter's textfile
    /// collector) instead of printing
    #[arg(long, value_name = "PATH")]
    pub textfile: Option<std::path::PathBuf>,
    /// Only these backends (repeatable)
    #[arg(short, long = "backend", value_name = "BACKEND", add = backend_names())]
    pub backends: Vec<String>,
    /// Deadline for each backend (seconds, or 500ms, 1m)
    #[arg(long, value_name = "SECS", value_parser = duration)]
    pub timeout: Option<Duration>,
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub users: UsersArgs,
}

#[derive(Args, Debug)]
pub struct DescribeArgs {
    /// NAME or BACKEND/NAME
    #[arg(add = cluster_names())]
    pub name: String,
    /// Output: a table, or json or yaml for scripts
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: Format,
    /// Deadline for each backend (seconds, or 500ms, 1m)
    #[arg(long, value_name = "SECS", value_parser = duration)]
    pub timeout: Option<Duration>,
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub users: UsersArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub struct CreateArgs {
    /// Where to create it (see: daskctl backends); the spec's with -f
    #[arg(required_unless_present = "file", add = backend_names())]
    pub backend: Option<String>,
    /// A cluster spec (YAML): daskctl's, or a dask-ctl spec (version: 1, module, class, kwargs);
    /// flags given on the command line override it
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,
    /// Cluster name (lowercase letters, digits, '-'; default: generated)
    #[arg(long)]
    pub name: Option<String>,
    /// Number of workers (default 2)
    #[arg(long, allow_negative_numbers = true)]
    pub workers: Option<i64>,
    /// Threads per worker
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<i64>,
    /// Memory limit per worker (e.g. 4GiB)
    #[arg(long)]
    pub memory: Option<String>,
    /// [local, slurm, pbs, sge, htcondor, kubernetes, aws] Another group of workers beside the
    /// default one (repeatable): NAME:COUNT[:key=value,...] with threads, memory and, on batch
    /// backends, partition, account, walltime, cores, gpus, job-extra; on kubernetes cpu, gpus,
    /// image; on aws instance-type; e.g. gpu:2:threads=4,gpus=1
    #[arg(long = "worker-group", value_name = "NAME:COUNT[:K=V,..]")]
    pub worker_groups: Vec<String>,
    /// Output: the new cluster as a table (describe's), json or yaml; with --dry-run the plan
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: Format,
    /// How long to wait for the scheduler and workers
    #[arg(long, value_name = "SECS", value_parser = duration, default_value = "120")]
    pub timeout: Duration,
    /// [local, slurm, pbs, sge, htcondor] Python with distributed (local: default python3 on
    /// PATH; batch: on the compute nodes)
    #[arg(long)]
    pub python: Option<String>,
    /// [local, slurm, pbs, sge, htcondor] Interface the scheduler and workers listen on
    #[arg(long)]
    pub host: Option<String>,
    /// [slurm, pbs, sge] Slurm partition, PBS or Grid Engine queue to submit to
    #[arg(long, help_heading = "Batch backends")]
    pub partition: Option<String>,
    /// [slurm, pbs, sge, htcondor] Account to charge (HTCondor: accounting_group)
    #[arg(long, help_heading = "Batch backends")]
    pub account: Option<String>,
    /// [slurm, pbs, sge, htcondor] Wall-clock limit of each job, HH:MM:SS (HTCondor: a periodic_remove)
    #[arg(long, help_heading = "Batch backends")]
    pub walltime: Option<String>,
    /// [slurm, pbs, sge, htcondor] Cores per worker job (default: --threads)
    #[arg(long, help_heading = "Batch backends")]
    pub cores: Option<u32>,
    /// [slurm, pbs, sge, htcondor] Extra directive for every job (repeatable), e.g.
    /// --job-extra=--qos=high
    #[arg(
        long,
        value_name = "ARG",
        help_heading = "Batch backends",
        allow_hyphen_values = true
    )]
    pub job_extra: Vec<String>,
    /// Print what would be submitted (job scripts, submit descriptions, Kubernetes objects,
    /// EC2 launch parameters and user data, local commands) and submit nothing
    #[arg(long)]
    pub dry_run: bool,
    /// [kubernetes] Plain Deployments and a Service, even where the dask-kubernetes operator
    /// runs (default there: a DaskCluster)
    #[arg(long, help_heading = "Cloud backends")]
    pub native: bool,
    /// [slurm, pbs, sge, htcondor] Keep the cluster's shared directory (scripts, logs) when
    /// create fails
    #[arg(long, help_heading = "Batch backends")]
    pub keep_failed: bool,
    /// [local, slurm, pbs, sge, htcondor, aws, kubernetes] End the cluster after its scheduler
    /// has been idle this long (Dask's own --idle-timeout; on Kubernetes the operator's
    /// idleTimeout): no daskctl needs to run, e.g. 30m
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub idle_timeout: Option<Duration>,
    /// [local] Scheduler port (default: any free port)
    #[arg(long, help_heading = "Local backend")]
    pub scheduler_port: Option<u16>,
    /// [aws] Instance type of the scheduler (and of the workers unless --worker-instance-type)
    #[arg(long, value_name = "TYPE", help_heading = "Cloud backends")]
    pub instance_type: Option<String>,
    /// [aws] Instance type of the workers
    #[arg(long, value_name = "TYPE", help_heading = "Cloud backends")]
    pub worker_instance_type: Option<String>,
    /// [gcp] Machine type of the scheduler (and of the workers unless --worker-machine-type;
    /// default e2-standard-2)
    #[arg(long, value_name = "TYPE", help_heading = "Cloud backends")]
    pub machine_type: Option<String>,
    /// [gcp] Machine type of the workers
    #[arg(long, value_name = "TYPE", help_heading = "Cloud backends")]
    pub worker_machine_type: Option<String>,
    /// [gcp] Zone to create in (default: backends.gcp.zone, else gcloud's compute/zone)
    #[arg(long, value_name = "ZONE", help_heading = "Cloud backends")]
    pub zone: Option<String>,
    /// [aws] Machine image (default: backends.aws.ami, else the newest Ubuntu LTS)
    #[arg(long, value_name = "AMI", help_heading = "Cloud backends")]
    pub ami: Option<String>,
    /// [aws] Subnet to launch into (default: the default VPC's)
    #[arg(long, value_name = "SUBNET", help_heading = "Cloud backends")]
    pub subnet: Option<String>,
    /// [aws] Security group (repeatable; default: one daskctl creates for the cluster)
    #[arg(long, value_name = "GROUP", help_heading = "Cloud backends")]
    pub security_group: Vec<String>,
    /// [gateway] Cluster option KEY=VALUE (repeatable), checked against the gateway's own
    /// (GET /api/v1/options)
    #[arg(
        long = "option",
        value_name = "KEY=VALUE",
        help_heading = "Gateway backend"
    )]
    pub options: Vec<String>,
    /// [aws] SSH key pair name
    #[arg(long, value_name = "KEY", help_heading = "Cloud backends")]
    pub key_name: Option<String>,
    /// [aws, gcp] Run the workers on spot instances
    #[arg(long, help_heading = "Cloud backends")]
    pub spot: bool,
    /// [local, slurm, pbs, sge, htcondor, aws, kubernetes] Time to live: after it,
    /// `reconcile --yes` and `cleanup --orphaned` delete the cluster (e.g. 8h)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub ttl: Option<Duration>,
    /// [kubernetes] Worker container requests and limits, e.g. cpu=2,memory=4Gi
    #[arg(long, value_name = "LIST", help_heading = "Cloud backends")]
    pub resources: Option<String>,
    /// [aws, gcp, kubernetes] Container image with Dask (default: ghcr.io/dask/dask:latest)
    #[arg(long, value_name = "IMAGE", help_heading = "Cloud backends")]
    pub image: Option<String>,
    #[command(flatten)]
    pub cloud: CloudArgs,
}

#[derive(Args, Debug)]
pub struct ScaleArgs {
    /// NAME or BACKEND/NAME
    #[arg(add = cluster_names())]
    pub name: String,
    /// Number of workers wanted (in the group, with --group)
    #[arg(allow_negative_numbers = true)]
    pub workers: i64,
    /// The worker group to scale (see describe; default: the default group)
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Wait until the scheduler has exactly that many workers
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (and a scale down waits for workers to go)
    #[arg(long, value_name = "SECS", value_parser = duration, default_value = "120")]
    pub timeout: Duration,
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub users: UsersArgs,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// NAME or BACKEND/NAME
    #[arg(add = cluster_names())]
    pub name: String,
    /// Only the scheduler's log
    #[arg(long, conflicts_with = "worker")]
    pub scheduler: bool,
    /// Only this worker's log (name or number)
    #[arg(long, value_name = "W", add = ArgValueCompleter::new(crate::complete::worker_names))]
    pub worker: Option<String>,
    /// Only the last N lines of each log
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
    /// Keep printing new lines
    #[arg(short, long)]
    pub follow: bool,
    /// text: lines prefixed with [source]; json: one {"source", "line"} object per line
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: LogFormat,
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub users: UsersArgs,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// NAME or BACKEND/NAME
    #[arg(add = cluster_names())]
    pub name: String,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,
    /// Wait until everything is gone (the local backend always does)
    #[arg(long)]
    pub wait: bool,
    /// How long to wait for the cluster's resources to be gone
    #[arg(long, value_name = "SECS", value_parser = duration, default_value = "120")]
    pub timeout: Duration,
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub users: UsersArgs,
}

#[derive(Args, Debug)]
pub struct CleanupArgs {
    /// Only clusters whose NAME or qualified name (BACKEND/NAME) matches one of these glob
    /// patterns (e.g. 'ci-*'); default: every cluster of yours
    #[arg(value_name = "PATTERN", add = cluster_names())]
    pub patterns: Vec<String>,
    /// Clusters whose scheduler is gone or silent, and dead leftovers
    #[arg(long)]
    pub orphaned: bool,
    /// Clusters whose scheduler has been idle at least this long (e.g. 30m)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub idle: Option<Duration>,
    /// Clusters created at least this long ago (e.g. 2h)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub older_than: Option<Duration>,
    /// Delete; without it cleanup only shows what it would delete
    #[arg(short, long)]
    pub yes: bool,
    /// Only these backends (repeatable)
    #[arg(short, long = "backend", value_name = "BACKEND", add = backend_names())]
    pub backends: Vec<String>,
    /// Output: a table, or json or yaml for scripts
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: Format,
    /// Deadline for each backend (seconds, or 500ms, 1m)
    #[arg(long, value_name = "SECS", value_parser = duration)]
    pub timeout: Option<Duration>,
    #[command(flatten)]
    pub cloud: CloudArgs,
    #[command(flatten)]
    pub users: UsersArgs,
}

#[derive(Args, Debug)]
pub struct AdaptArgs {
    /// NAME or BACKEND/NAME
    #[arg(add = cluster_names())]
    pub name: String,
    /// Fewest workers to keep
    #[arg(long, required_unless_present = "off", allow_negative_numbers = true)]
    pub minimum: Option<i64>,
    /// Most workers to run
    #[arg(long, required_unless_present = "off", allow_negative_numbers = true)]
    pub maximum: Option<i64>,
    /// Remove the policy: the cluster keeps its current size
    #[arg(long, conflicts_with_all = ["minimum", "maximum", "group"])]
    pub off: bool,
    /// The worker group that grows and shrinks (the others keep their size; the bounds are
    /// the group's); default: the default group
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Deadline for finding the cluster
    #[arg(long, value_name = "SECS", value_parser = duration)]
    pub timeout: Option<Duration>,
    #[command(flatten)]
    pub cloud: CloudArgs,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// The cluster spec (YAML; see `create -f`); it must name the cluster
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: std::path::PathBuf,
    /// Output: a table, or json or yaml for scripts
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: Format,
    /// How long to wait for a cluster it creates
    #[arg(long, value_name = "SECS", value_parser = duration, default_value = "120")]
    pub timeout: Duration,
    /// Say what it would change, change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub cloud: CloudArgs,
}

#[derive(Args, Debug)]
pub struct ReconcileArgs {
    /// Only clusters whose NAME or BACKEND/NAME matches one of these glob patterns
    #[arg(value_name = "PATTERN", add = cluster_names())]
    pub patterns: Vec<String>,
    /// Only these backends (repeatable)
    #[arg(short, long = "backend", value_name = "BACKEND", add = backend_names())]
    pub backends: Vec<String>,
    /// Keep reconciling every --interval until interrupted
    #[arg(long)]
    pub watch: bool,
    /// Time between passes with --watch
    #[arg(long, value_name = "DURATION", value_parser = duration, default_value = "10s")]
    pub interval: Duration,
    /// Delete the clusters past their TTL, idle beyond their idle timeout, or ended by it
    /// (without --yes, reconcile says which it would delete and deletes none)
    #[arg(long)]
    pub yes: bool,
    /// Output: a table, or json or yaml for scripts
    #[arg(short, long, value_enum, default_value = "table")]
    pub output: Format,
    /// Deadline for each backend's discovery
    #[arg(long, value_name = "SECS", value_parser = duration)]
    pub timeout: Option<Duration>,
    #[command(flatten)]
    pub users: UsersArgs,
    #[command(flatten)]
    pub cloud: CloudArgs,
}

#[derive(Args, Debug)]
pub struct SnippetArgs {
    /// NAME or BACKEND/NAME
    #[arg(add = cluster_names())]
    pub name: String,
    #[command(flatten)]
    pub cloud: CloudArgs,
}

#[derive(Subcommand, Debug)]
pub enum BackendsAction {
    /// Show every backend, whether it is enabled and usable here
    List {
        /// Output: a table, or json or yaml for scripts
        #[arg(short, long, value_enum, default_value = "table")]
        output: Format,
    },
    /// Turn a backend on (persisted in the config file)
    Enable {
        /// The backend (see: daskctl backends list)
        #[arg(add = backend_names())]
        name: String,
    },
    /// Turn a backend off: it is never queried
    Disable {
        /// The backend (see: daskctl backends list)
        #[arg(add = backend_names())]
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every verb's `--help` ends with examples, and each example parses as written.
    #[test]
    fn every_verb_has_examples_that_parse() {
        let cmd = super::Cli::command();
        let mut checked = 0;
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = sub.get_name();
            if matches!(name, "help" | "backends" | "completions") {
                continue;
            }
            let help = sub
                .get_after_help()
                .unwrap_or_else(|| panic!("daskctl {name} --help has no examples"))
                .to_string();
            assert!(help.starts_with("Examples:"), "{name}: {help}");
            for line in help.lines().skip(1) {
                let line = line.trim();
                let Some(example) = line.strip_prefix("daskctl ") else {
                    continue;
                };
                // a note in parentheses after the command is not part of it
                let example = example.split("   (").next().unwrap().trim();
                let argv = std::iter::once("daskctl").chain(example.split_whitespace());
                if let Err(e) = <super::Cli as clap::Parser>::try_parse_from(argv) {
                    panic!("{line}: {e}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 30, "{checked}");
    }

    /// Every verb and every flag says what it is for in `--help`.
    #[test]
    fn every_help_line_is_filled() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                if a.is_hide_set() || a.get_id() == "help" || a.get_id() == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let p = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(p.clone());
                }
                walk(sub, &p, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "daskctl", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }
}
