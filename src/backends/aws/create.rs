//! `create aws`: a security group for the cluster (unless given), one scheduler instance, then
//! K workers in one RunInstances call, all tagged at launch. Any failure terminates what was
//! started and removes the group: nothing is left half-created.

use super::client::map_err;
use super::launch::{self, Launch};
use super::tags;
use super::userdata::{self, DASHBOARD_PORT, SCHEDULER_PORT, WorkerSpec};
use super::{Aws, consistency, discover};
use crate::backends::CreateRequest;
use crate::error::{Error, Result};
use crate::model::Cluster;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, ResourceType, UserIdGroupPair};
use std::time::{Duration, Instant, SystemTime};

/// What has been made so far, for the roll-back.
#[derive(Default)]
struct Made {
    instances: Vec<String>,
    group: Option<String>,
}

pub async fn create(aws: &Aws, req: &CreateRequest) -> Result<Cluster> {
    let region = aws.regions().await?.remove(0);
    if !discover::discover(aws, Some(&req.name)).await?.is_empty() {
        return Err(Error::Usage(format!(
            "aws/{} already exists in {region}",
            req.name
        )));
    }
    let client = aws.client(&region).await;
    let mut made = Made::default();
    let shortfall = match launch_all(aws, &client, &region, req, &mut made).await {
        Ok(short) => short,
        Err(e) => {
            return Err(match roll_back(aws, &client, &region, &made).await {
                Ok(()) => e,
                Err(left) => Error::backend("aws", format!("{e}; and rolling back: {left}")),
            });
        }
    };
    let lookup = || async {
        discover::discover(aws, Some(&req.name))
            .await?
            .pop()
            .ok_or_else(|| Error::backend("aws", format!("{} vanished after create", req.name)))
    };
    let c = lookup().await?;
    let c = match &c.address {
        // probe-able from here (probe.map or a reachable address): report it answering
        Some(addr) if aws.ctx.prober.target(addr).is_ok() => {
            req.progress.say("waiting for the scheduler to answer");
            wait_for_scheduler(aws, &req.name, addr, Instant::now() + req.timeout).await?;
            lookup().await?
        }
        _ => c,
    };
    match shortfall {
        // the scheduler and some workers run: kept, and the shortfall said (exit 4)
        Some(short) => Err(Error::Partial(format!(
            "created aws/{} with fewer workers than asked: {short}; scale it later (daskctl scale {} {})",
            req.name, req.name, req.workers
        ))),
        None => Ok(c),
    }
}

/// The scheduler instance once it has its private address (which the workers' user data
/// names): from the launch's response, else as EC2 shows it once pending or running.
async fn with_private_address(
    aws: &Aws,
    region: &str,
    sched: launch::Launched,
    timeout: std::time::Duration,
) -> Result<super::tags::Node> {
    if let Some(n) = sched.nodes.first().filter(|n| n.private_ip.is_some()) {
        return Ok(n.clone());
    }
    launch::wait_for(aws, region, &sched.ids, &["pending", "running"], timeout)
        .await?
        .into_iter()
        .find(|n| n.private_ip.is_some())
        .ok_or_else(|| Error::backend("aws", "scheduler instance got no private address"))
}

/// Makes the group, the scheduler and the workers; the shortfall when EC2 had capacity for
/// fewer workers than asked (those started are kept).
async fn launch_all(
    aws: &Aws,
    client: &Client,
    region: &str,
    req: &CreateRequest,
    made: &mut Made,
) -> Result<Option<String>> {
    let s = &aws.settings;
    let opt = |k: &str| req.options.get(k).cloned();
    let Request {
        image,
        instance_type,
        spec,
        group_specs,
        ttl,
        subnet,
        mut groups,
        base,
    } = request(aws, req)?;
    let ami = match opt("ami").or_else(|| s.ami.clone()) {
        Some(a) => a,
        None => latest_ubuntu(client, region).await?,
    };
    if groups.is_empty() {
        let g = create_group(aws, client, region, &req.name, subnet.as_deref(), &base).await?;
        made.group = Some(g.clone());
        groups.push(g);
    }
    let ttl_minutes = ttl.map(|s| s.div_ceil(60));
    let mut l = Launch {
        ami,
        instance_type,
        subnet,
        security_groups: groups,
        key_name: opt("key-name").or_else(|| s.key_name.clone()),
        iam_profile_arn: s.iam_instance_profile.clone(),
        spot: false,
        block_devices: None,
        public_ip: None,
    };
    let with = |role: &str, extra: Vec<(String, String)>| role_tags(&base, &req.name, role, extra);
    let sched_tags = with("scheduler", spec_tags(&spec, &group_specs));
    tags::check_values(&sched_tags)?;
    let idle = req.options.get("idle-timeout").and_then(|t| t.parse().ok());
    let sched_data = userdata::scheduler(&req.name, &spec.install, &image, ttl_minutes, idle)?;
    let sched = launch::run_one(client, region, &l, &sched_tags, &sched_data).await?;
    // the ids from the response itself: what to roll back even if nothing else is visible
    made.instances.extend(sched.ids.iter().cloned());
    let sched = with_private_address(aws, region, sched, req.timeout).await?;
    let mut shortfalls = Vec::new();
    // one launch per group, each with its instance type and user data
    let counts = std::iter::once((None, req.workers)).chain(
        req.groups
            .iter()
            .map(|g| (Some(g.name.as_str()), g.workers)),
    );
    for (group, n) in counts.filter(|(_, n)| *n > 0) {
        let (data, gspec) = launch::worker_user_data(&sched, ttl_minutes, group)?;
        l.instance_type = gspec.instance_type.clone();
        l.spot = gspec.spot;
        let extra = group
            .map(|g| vec![(tags::GROUP.to_string(), g.to_string())])
            .unwrap_or_default();
        // in batches, each taking what EC2 can start: one capacity error keeps what started
        let short = launch::run_batches(
            client,
            region,
            &l,
            (n, s.launch_batch),
            (&with("worker", extra), &data),
            &mut made.instances,
        )
        .await?;
        if let Some(short) = short {
            shortfalls.push(match group {
                Some(g) => format!("group {g}: {short}"),
                None => short,
            });
        }
    }
    let shortfall = (!shortfalls.is_empty()).then(|| shortfalls.join("; "));
    req.progress.say(&format!(
        "waiting for {} instance(s) to run",
        made.instances.len()
    ));
    launch::wait_for(aws, region, &made.instances, &["running"], req.timeout).await?;
    Ok(shortfall)
}

/// What a create request means on EC2, checked (no API call).
struct Request {
    image: String,
    instance_type: String,
    spec: WorkerSpec,
    /// The worker groups' launch specs.
    group_specs: Vec<WorkerSpec>,
    /// Time to live, seconds.
    ttl: Option<u64>,
    subnet: Option<String>,
    /// Given groups; none: daskctl makes one.
    groups: Vec<String>,
    /// Tags every instance gets.
    base: Vec<(String, String)>,
}

fn request(aws: &Aws, req: &CreateRequest) -> Result<Request> {
    let s = &aws.settings;
    let opt = |k: &str| req.options.get(k).cloned();
    let image = opt("image").unwrap_or_else(|| s.image().to_string());
    userdata::check_image(&image)?;
    let instance_type = opt("instance-type").unwrap_or_else(|| s.instance_type().to_string());
    let spec = WorkerSpec {
        instance_type: opt("worker-instance-type")
            .or_else(|| s.worker_instance_type.clone())
            .unwrap_or_else(|| instance_type.clone()),
        spot: opt("spot").is_some(),
        threads: req.threads,
        memory: req.memory,
        image: image.clone(),
        install: s.install.as_str().to_string(),
        group: None,
    };
    // a group takes the cluster's worker launch unless it gives its own instance type
    let group_specs = req
        .groups
        .iter()
        .map(|g| WorkerSpec {
            instance_type: g
                .options
                .get("instance-type")
                .cloned()
                .unwrap_or_else(|| spec.instance_type.clone()),
            threads: g.threads.or(req.threads),
            memory: g.memory.or(req.memory),
            group: Some(g.name.clone()),
            ..spec.clone()
        })
        .collect();
    let ttl = opt("ttl").and_then(|t| t.parse::<u64>().ok());
    let mut base = vec![
        (tags::CLUSTER.to_string(), req.name.clone()),
        (tags::OWNER.into(), aws.ctx.user.name.clone()),
        (
            tags::CREATOR.into(),
            format!("daskctl/{}", env!("CARGO_PKG_VERSION")),
        ),
    ];
    if let Some(secs) = ttl {
        let at = SystemTime::now() + Duration::from_secs(secs);
        base.push((
            tags::EXPIRES.into(),
            humantime::format_rfc3339_seconds(at).to_string(),
        ));
    }
    Ok(Request {
        image,
        instance_type,
        spec,
        group_specs,
        ttl,
        subnet: opt("subnet").or_else(|| s.subnet.clone()),
        groups: opt("security-group")
            .map(|g| g.lines().map(str::to_string).collect())
            .unwrap_or_else(|| s.security_groups.clone()),
        base,
    })
}

/// The scheduler's launch spec tags: the default group's, and each worker group's.
fn spec_tags(spec: &WorkerSpec, groups: &[WorkerSpec]) -> Vec<(String, String)> {
    std::iter::once(spec)
        .chain(groups)
        .map(|s| (tags::worker_spec_key(s.group.as_deref()), s.to_tag()))
        .collect()
}

fn role_tags(
    base: &[(String, String)],
    name: &str,
    role: &str,
    extra: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut t = base.to_vec();
    t.push((tags::ROLE.into(), role.into()));
    t.push((tags::NAME.into(), format!("daskctl-{name}-{role}")));
    t.extend(extra);
    t
}

/// The plan's step making the cluster's own security group (where none is configured).
fn security_group_step(
    aws: &Aws,
    req: &CreateRequest,
    r: &Request,
    region: &str,
) -> crate::backends::Step {
    use serde_json::json;
    let mut rules = vec![json!({"ports": "all", "from": "this group (the cluster's instances)"})];
    if let Some(cidr) = &aws.settings.ingress_cidr {
        rules.push(json!({"ports": format!("{SCHEDULER_PORT}-{DASHBOARD_PORT}"), "from": cidr}));
    }
    let vpc = r
        .subnet
        .as_ref()
        .map_or("<the default VPC>".to_string(), |sn| {
            format!("<the VPC of {sn}>")
        });
    crate::backends::Step {
        object: Some(
            json!({"GroupName": group_name(&aws.ctx.user.name, &req.name),
                            "Region": region, "VpcId": vpc,
                            "Ingress": rules, "Tags": tags_json(&r.base)}),
        ),
        ..crate::backends::Step::new("security-group", "CreateSecurityGroup for the cluster")
    }
}

/// `create --dry-run`: the security group, and the two RunInstances calls with their tags and
/// user data, as `create` would make them; no credentials or API call needed (what only EC2 can
/// say, the default AMI and the scheduler's address, is marked).
pub async fn plan(aws: &Aws, req: &CreateRequest) -> Result<crate::backends::Plan> {
    use crate::backends::{Plan, PlanFile, Step};
    use serde_json::json;
    let s = &aws.settings;
    let r = request(aws, req)?;
    let region = aws
        .regions()
        .await
        .ok()
        .and_then(|v| v.into_iter().next())
        .unwrap_or_else(|| "<the default region>".into());
    let ami = req
        .options
        .get("ami")
        .cloned()
        .or_else(|| s.ami.clone())
        .unwrap_or_else(|| "<the newest Ubuntu LTS image, looked up at create>".into());
    let ttl_minutes = r.ttl.map(|t| t.div_ceil(60));
    let mut steps = Vec::new();
    let groups = if r.groups.is_empty() {
        steps.push(security_group_step(aws, req, &r, &region));
        vec![format!("<{}>", group_name(&aws.ctx.user.name, &req.name))]
    } else {
        r.groups.clone()
    };
    let launch = |role: &str, count: u32, itype: &str, spot: bool, tags: &[(String, String)]| {
        json!({"Region": region, "ImageId": ami, "InstanceType": itype, "MinCount": count, "MaxCount": count,
               "SubnetId": r.subnet, "SecurityGroupIds": groups, "KeyName": req.options.get("key-name").cloned().or_else(|| s.key_name.clone()),
               "IamInstanceProfile": s.iam_instance_profile, "Spot": spot,
               "InstanceInitiatedShutdownBehavior": "terminate", "Role": role, "Tags": tags_json(tags)})
    };
    let sched_tags = role_tags(
        &r.base,
        &req.name,
        "scheduler",
        spec_tags(&r.spec, &r.group_specs),
    );
    let idle = req.options.get("idle-timeout").and_then(|t| t.parse().ok());
    let sched_data = userdata::scheduler(&req.name, &r.spec.install, &r.image, ttl_minutes, idle)?;
    steps.push(Step {
        object: Some(launch("scheduler", 1, &r.instance_type, false, &sched_tags)),
        files: vec![PlanFile {
            path: "user data (scheduler)".into(),
            content: sched_data,
        }],
        ..Step::new("scheduler", "RunInstances: the scheduler instance")
    });
    let counts = std::iter::once((&r.spec, req.workers)).chain(
        r.group_specs
            .iter()
            .zip(req.groups.iter().map(|g| g.workers)),
    );
    for (spec, n) in counts.filter(|(_, n)| *n > 0) {
        // the workers' user data names the scheduler's private address, known once it runs
        let data = userdata::worker(&req.name, "0.0.0.0", spec, ttl_minutes)?
            .replace("tcp://0.0.0.0:", "tcp://<the scheduler's private address>:");
        let extra = spec
            .group
            .as_ref()
            .map(|g| vec![(tags::GROUP.to_string(), g.clone())])
            .unwrap_or_default();
        let worker_tags = role_tags(&r.base, &req.name, "worker", extra);
        let of = spec
            .group
            .as_ref()
            .map(|g| format!(" of group {g}"))
            .unwrap_or_default();
        steps.push(Step {
            object: Some(launch(
                "worker",
                n,
                &spec.instance_type,
                spec.spot,
                &worker_tags,
            )),
            files: vec![PlanFile {
                path: format!("user data (workers{of})"),
                content: data,
            }],
            ..Step::new(
                "workers",
                format!("RunInstances: {n} worker instance(s){of} in one call"),
            )
        });
    }
    Ok(Plan {
        backend: "aws".into(),
        name: req.name.clone(),
        dry_run: true,
        steps,
    })
}

fn tags_json(t: &[(String, String)]) -> serde_json::Value {
    t.iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Whether a Canonical image name is an LTS release (`YY.04` with an even year: 22.04, 24.04);
/// the newest image overall may be an interim one (25.10).
fn is_lts(name: &str) -> bool {
    name.split('-').any(|part| {
        part.strip_suffix(".04")
            .and_then(|y| y.parse::<u32>().ok())
            .is_some_and(|y| y % 2 == 0)
    })
}

/// The newest Ubuntu LTS image from Canonical, as dask-cloudprovider picks its default.
async fn latest_ubuntu(client: &Client, region: &str) -> Result<String> {
    let out = client
        .describe_images()
        .owners("099720109477")
        .filters(
            Filter::builder()
                .name("name")
                .values("ubuntu/images/hvm-ssd*/ubuntu-*-amd64-server-*")
                .build(),
        )
        .send()
        .await
        .map_err(|e| map_err(region, "DescribeImages", e))?;
    out.images()
        .iter()
        .filter(|i| i.image_id().is_some() && i.name().is_some_and(is_lts))
        .max_by_key(|i| i.creation_date().unwrap_or("").to_string())
        .and_then(|i| i.image_id().map(str::to_string))
        .ok_or_else(|| {
            Error::Usage(format!(
                "aws: {region}: no Ubuntu image found; pass --ami or set backends.aws.ami"
            ))
        })
}

/// A group that lets the cluster's instances reach each other (and `ingress_cidr` reach the
/// scheduler and dashboard), tagged so `delete` removes it with the cluster.
async fn create_group(
    aws: &Aws,
    client: &Client,
    region: &str,
    name: &str,
    subnet: Option<&str>,
    base: &[(String, String)],
) -> Result<String> {
    let vpc = match subnet {
        Some(sn) => client
            .describe_subnets()
            .subnet_ids(sn)
            .send()
            .await
            .map_err(|e| map_err(region, "DescribeSubnets", e))?
            .subnets()
            .first()
            .and_then(|s| s.vpc_id().map(str::to_string)),
        None => client
            .describe_vpcs()
            .filters(Filter::builder().name("is-default").values("true").build())
            .send()
            .await
            .map_err(|e| map_err(region, "DescribeVpcs", e))?
            .vpcs()
            .first()
            .and_then(|v| v.vpc_id().map(str::to_string)),
    }
    .ok_or_else(|| {
        Error::Usage(format!(
            "aws: {region}: no default VPC; pass --subnet or --security-group"
        ))
    })?;
    // the owner in the name: two users' clusters of one name do not collide
    let group_name = group_name(&aws.ctx.user.name, name);
    let id = client
        .create_security_group()
        .group_name(&group_name)
        .description(format!(
            "daskctl cluster {name}: Dask scheduler and workers"
        ))
        .vpc_id(vpc)
        .tag_specifications(tags::spec(ResourceType::SecurityGroup, base))
        .send()
        .await
        .map_err(|e| match e.code() {
            // left by an earlier create that could not remove it: not a usage error
            Some("InvalidGroup.Duplicate") => Error::backend(
                "aws",
                format!(
                    "{region}: security group {group_name} already exists (left by an earlier create?); `daskctl cleanup --orphaned` removes a leftover group of yours"
                ),
            ),
            _ => map_err(region, "CreateSecurityGroup", e),
        })?
        .group_id()
        .map(str::to_string)
        .ok_or_else(|| Error::backend("aws", "CreateSecurityGroup returned no id"))?;
    let mut perms = vec![
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(0)
            .to_port(65535)
            .user_id_group_pairs(UserIdGroupPair::builder().group_id(&id).build())
            .build(),
    ];
    if let Some(cidr) = &aws.settings.ingress_cidr {
        perms.push(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(SCHEDULER_PORT as i32)
                .to_port(DASHBOARD_PORT as i32)
                .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
                .build(),
        );
    }
    // a group just made may not be visible to the next call yet
    let r = consistency::eventually(
        &[consistency::GROUP_NOT_FOUND],
        consistency::VISIBLE_WITHIN,
        || {
            client
                .authorize_security_group_ingress()
                .group_id(&id)
                .set_ip_permissions(Some(perms.clone()))
                .send()
        },
    )
    .await;
    if let Err(e) = r {
        let _ = client.delete_security_group().group_id(&id).send().await;
        return Err(map_err(region, "AuthorizeSecurityGroupIngress", e));
    }
    Ok(id)
}

/// Terminates what `create` started and removes its group, until confirmed; what could not be
/// removed is the error (and stays findable: everything carries the cluster's tags).
async fn roll_back(aws: &Aws, client: &Client, region: &str, made: &Made) -> Result<()> {
    let mut left = Vec::new();
    if !made.instances.is_empty() {
        if let Err(e) = launch::terminate(client, region, &made.instances).await {
            left.push(format!(
                "instances {} not terminated: {e}",
                made.instances.join(" ")
            ));
        } else if let Err(e) = launch::wait_for(
            aws,
            region,
            &made.instances,
            &["terminated"],
            aws.settings.group_patience,
        )
        .await
        {
            left.push(e.to_string());
        }
    }
    if let Some(g) = &made.group
        && let Err(e) = super::delete::delete_group(
            client,
            region,
            g,
            Instant::now() + aws.settings.group_patience,
        )
        .await
    {
        left.push(e.to_string());
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(Error::backend("aws", left.join("; ")))
    }
}

/// `daskctl-OWNER-NAME`: security group names are unique per VPC, across users.
pub fn group_name(owner: &str, cluster: &str) -> String {
    format!("daskctl-{owner}-{cluster}")
}

/// Waits for Dask to answer at `addr`; the instances already run.
async fn wait_for_scheduler(aws: &Aws, name: &str, addr: &str, deadline: Instant) -> Result<()> {
    let within = deadline.saturating_duration_since(Instant::now());
    crate::backends::until(within, Duration::from_secs(2), || async {
        aws.ctx.prober.scheduler(addr).await.ok()
    })
    .await
    .map(drop)
    .ok_or_else(|| {
        Error::Timeout(format!(
            "aws/{name}: instances run but the scheduler at {addr} did not answer in time \
             (cloud-init may still be installing Dask; see daskctl logs aws/{name})"
        ))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_lts_images_are_the_default() {
        assert!(super::is_lts(
            "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20260101"
        ));
        assert!(super::is_lts(
            "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250101"
        ));
        assert!(!super::is_lts(
            "ubuntu/images/hvm-ssd-gp3/ubuntu-questing-25.10-amd64-server-20260101"
        ));
        assert!(!super::is_lts(
            "ubuntu/images/hvm-ssd/ubuntu-lunar-23.04-amd64-server-20230101"
        ));
    }
}
