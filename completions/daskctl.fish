# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_daskctl_global_optspecs
    string join \n v/verbose no-probe h/help V/version
end

function __fish_daskctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_daskctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_daskctl_using_subcommand
    set -l cmd (__fish_daskctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c daskctl -n "__fish_daskctl_needs_command" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_needs_command" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_needs_command" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_needs_command" -s V -l version -d 'Print version'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "list" -d 'List clusters across all enabled backends'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "ls" -d 'List clusters across all enabled backends'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "describe" -d 'Show one cluster in detail'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "create" -d 'Create a cluster'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "scale" -d 'Set a cluster\'s number of workers'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "logs" -d 'Show a cluster\'s scheduler and worker logs'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "delete" -d 'Delete a cluster and everything it runs'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "rm" -d 'Delete a cluster and everything it runs'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "cleanup" -d 'Delete orphaned, idle or old clusters (previews unless --yes)'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "snippet" -d 'Print Python code that connects a Client to a cluster'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "adapt" -d 'Set or clear a cluster\'s adaptive scaling policy (applied by `reconcile`)'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "reconcile" -d 'Apply every stored policy once (adaptive scaling), or keep doing it with --watch'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "apply" -d 'Create the cluster a spec file describes, or bring an existing one to it'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "backends" -d 'List, enable or disable backends'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c daskctl -n "__fish_daskctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -s b -l backend -d 'Only these backends (repeatable)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l status -d 'Only clusters with this status (repeatable)' -r -f -a "pending\t'Resources requested, scheduler or workers not up yet'
running\t''
degraded\t'Scheduler up but some workers it should have are gone'
orphaned\t'Workers (or other resources) whose scheduler is gone or does not answer'
stopping\t''
stopped\t'Nothing runs any more; only leftovers (state, stopped machines) remain'
unknown\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l sort-by -d 'Order of the clusters (default: backend, then name)' -r -f -a "name\t''
age\t'Oldest first'
workers\t'Most workers first'
idle\t'Idle longest first (busy and unknown last)'
backend\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l interval -d 'Time between listings with --watch' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -s o -l output -d 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
name\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l timeout -d 'Deadline for each backend (seconds, or 500ms, 1m)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l no-headers -d 'Table rows only, no header line (for scripts reading the table)'
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -s w -l watch -d 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)'
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -s b -l backend -d 'Only these backends (repeatable)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l status -d 'Only clusters with this status (repeatable)' -r -f -a "pending\t'Resources requested, scheduler or workers not up yet'
running\t''
degraded\t'Scheduler up but some workers it should have are gone'
orphaned\t'Workers (or other resources) whose scheduler is gone or does not answer'
stopping\t''
stopped\t'Nothing runs any more; only leftovers (state, stopped machines) remain'
unknown\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l sort-by -d 'Order of the clusters (default: backend, then name)' -r -f -a "name\t''
age\t'Oldest first'
workers\t'Most workers first'
idle\t'Idle longest first (busy and unknown last)'
backend\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l interval -d 'Time between listings with --watch' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -s o -l output -d 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''
name\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l timeout -d 'Deadline for each backend (seconds, or 500ms, 1m)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l no-headers -d 'Table rows only, no header line (for scripts reading the table)'
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -s w -l watch -d 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)'
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand ls" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -s o -l output -d 'Output: a table, or json or yaml for scripts' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -l timeout -d 'Deadline for each backend (seconds, or 500ms, 1m)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand describe" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -s f -l file -d 'A cluster spec (YAML): daskctl\'s, or a dask-ctl spec (version: 1, module, class, kwargs); flags given on the command line override it' -r -F
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l name -d 'Cluster name (lowercase letters, digits, \'-\'; default: generated)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l workers -d 'Number of workers (default 2)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l threads -d 'Threads per worker' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l memory -d 'Memory limit per worker (e.g. 4GiB)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l worker-group -d '[local, slurm, pbs, sge, htcondor, kubernetes, aws] Another group of workers beside the default one (repeatable): NAME:COUNT[:key=value,...] with threads, memory and, on batch backends, partition, account, walltime, cores, gpus, job-extra; on kubernetes cpu, gpus, image; on aws instance-type; e.g. gpu:2:threads=4,gpus=1' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -s o -l output -d 'Output: the new cluster as a table (describe\'s), json or yaml; with --dry-run the plan' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l timeout -d 'How long to wait for the scheduler and workers' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l python -d '[local, slurm, pbs, sge, htcondor] Python with distributed (local: default python3 on PATH; batch: on the compute nodes)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l host -d '[local, slurm, pbs, sge, htcondor] Interface the scheduler and workers listen on' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l partition -d '[slurm, pbs, sge] Slurm partition, PBS or Grid Engine queue to submit to' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l account -d '[slurm, pbs, sge, htcondor] Account to charge (HTCondor: accounting_group)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l walltime -d '[slurm, pbs, sge, htcondor] Wall-clock limit of each job, HH:MM:SS (HTCondor: a periodic_remove)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l cores -d '[slurm, pbs, sge, htcondor] Cores per worker job (default: --threads)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l job-extra -d '[slurm, pbs, sge, htcondor] Extra directive for every job (repeatable), e.g. --job-extra=--qos=high' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l idle-timeout -d '[local, slurm, pbs, sge, htcondor, aws, kubernetes] End the cluster after its scheduler has been idle this long (Dask\'s own --idle-timeout; on Kubernetes the operator\'s idleTimeout): no daskctl needs to run, e.g. 30m' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l scheduler-port -d '[local] Scheduler port (default: any free port)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l instance-type -d '[aws] Instance type of the scheduler (and of the workers unless --worker-instance-type)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l worker-instance-type -d '[aws] Instance type of the workers' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l ami -d '[aws] Machine image (default: backends.aws.ami, else the newest Ubuntu LTS)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l subnet -d '[aws] Subnet to launch into (default: the default VPC\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l security-group -d '[aws] Security group (repeatable; default: one daskctl creates for the cluster)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l option -d '[gateway] Cluster option KEY=VALUE (repeatable), checked against the gateway\'s own (GET /api/v1/options)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l key-name -d '[aws] SSH key pair name' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l ttl -d '[local, slurm, pbs, sge, htcondor, aws, kubernetes] Time to live: after it, `reconcile --yes` and `cleanup --orphaned` delete the cluster (e.g. 8h)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l resources -d '[kubernetes] Worker container requests and limits, e.g. cpu=2,memory=4Gi' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l image -d '[aws, kubernetes] Container image with Dask (default: ghcr.io/dask/dask:latest)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l dry-run -d 'Print what would be submitted (job scripts, submit descriptions, Kubernetes objects, EC2 launch parameters and user data, local commands) and submit nothing'
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l native -d '[kubernetes] Plain Deployments and a Service, even where the dask-kubernetes operator runs (default there: a DaskCluster)'
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l keep-failed -d '[slurm, pbs, sge, htcondor] Keep the cluster\'s shared directory (scripts, logs) when create fails'
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l spot -d '[aws] Run the workers on spot instances'
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand create" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -l group -d 'The worker group to scale (see describe; default: the default group)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -l timeout -d 'How long --wait waits (and a scale down waits for workers to go)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -l wait -d 'Wait until the scheduler has exactly that many workers'
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand scale" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -l worker -d 'Only this worker\'s log (name or number)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -l tail -d 'Only the last N lines of each log' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -s o -l output -d 'text: lines prefixed with [source]; json: one {"source", "line"} object per line' -r -f -a "text\t''
json\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -l scheduler -d 'Only the scheduler\'s log'
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -s f -l follow -d 'Keep printing new lines'
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand logs" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -l timeout -d 'How long to wait for the cluster\'s resources to be gone' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -s y -l yes -d 'Do not ask for confirmation'
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -l wait -d 'Wait until everything is gone (the local backend always does)'
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand delete" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -l timeout -d 'How long to wait for the cluster\'s resources to be gone' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -s y -l yes -d 'Do not ask for confirmation'
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -l wait -d 'Wait until everything is gone (the local backend always does)'
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand rm" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -l idle -d 'Clusters whose scheduler has been idle at least this long (e.g. 30m)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -l older-than -d 'Clusters created at least this long ago (e.g. 2h)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -s b -l backend -d 'Only these backends (repeatable)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -s o -l output -d 'Output: a table, or json or yaml for scripts' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -l timeout -d 'Deadline for each backend (seconds, or 500ms, 1m)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -l orphaned -d 'Clusters whose scheduler is gone or silent, and dead leftovers'
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -s y -l yes -d 'Delete; without it cleanup only shows what it would delete'
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand cleanup" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand snippet" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand snippet" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand snippet" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand snippet" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand snippet" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand snippet" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand snippet" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand snippet" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l minimum -d 'Fewest workers to keep' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l maximum -d 'Most workers to run' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l group -d 'The worker group that grows and shrinks (the others keep their size; the bounds are the group\'s); default: the default group' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l timeout -d 'Deadline for finding the cluster' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l off -d 'Remove the policy: the cluster keeps its current size'
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand adapt" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -s b -l backend -d 'Only these backends (repeatable)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -l interval -d 'Time between passes with --watch' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -s o -l output -d 'Output: a table, or json or yaml for scripts' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -l timeout -d 'Deadline for each backend\'s discovery' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -l watch -d 'Keep reconciling every --interval until interrupted'
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -l yes -d 'Delete the clusters past their TTL, idle beyond their idle timeout, or ended by it (without --yes, reconcile says which it would delete and deletes none)'
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand reconcile" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -s f -l file -d 'The cluster spec (YAML; see `create -f`); it must name the cluster' -r -F
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -s o -l output -d 'Output: a table, or json or yaml for scripts' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -l timeout -d 'How long to wait for a cluster it creates' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -l region -d '[aws] Regions to query, comma-separated or repeated (default: the profile\'s or AWS_REGION)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -l context -d '[kubernetes] kubeconfig context' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -l namespace -d '[kubernetes] Only this namespace (create: where to create; default: the context\'s)' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -l profile -d '[aws] Named profile from ~/.aws/config' -r
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -s A -l all-namespaces -d '[kubernetes] Every namespace (the default for list and cleanup)'
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand apply" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and not __fish_seen_subcommand_from list enable disable help" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and not __fish_seen_subcommand_from list enable disable help" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and not __fish_seen_subcommand_from list enable disable help" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and not __fish_seen_subcommand_from list enable disable help" -f -a "list" -d 'Show every backend, whether it is enabled and usable here'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and not __fish_seen_subcommand_from list enable disable help" -f -a "enable" -d 'Turn a backend on (persisted in the config file)'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and not __fish_seen_subcommand_from list enable disable help" -f -a "disable" -d 'Turn a backend off: it is never queried'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and not __fish_seen_subcommand_from list enable disable help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from list" -s o -l output -d 'Output: a table, or json or yaml for scripts' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from list" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from enable" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from enable" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from disable" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from disable" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show every backend, whether it is enabled and usable here'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from help" -f -a "enable" -d 'Turn a backend on (persisted in the config file)'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from help" -f -a "disable" -d 'Turn a backend off: it is never queried'
complete -c daskctl -n "__fish_daskctl_using_subcommand backends; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daskctl -n "__fish_daskctl_using_subcommand completions" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand completions" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand __complete-names" -s v -l verbose -d 'More detail on stderr (-v info, -vv debug)'
complete -c daskctl -n "__fish_daskctl_using_subcommand __complete-names" -l no-probe -d 'Never connect to schedulers: report what the backends alone know'
complete -c daskctl -n "__fish_daskctl_using_subcommand __complete-names" -s h -l help -d 'Print help'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "list" -d 'List clusters across all enabled backends'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "describe" -d 'Show one cluster in detail'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "create" -d 'Create a cluster'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "scale" -d 'Set a cluster\'s number of workers'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "logs" -d 'Show a cluster\'s scheduler and worker logs'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "delete" -d 'Delete a cluster and everything it runs'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "cleanup" -d 'Delete orphaned, idle or old clusters (previews unless --yes)'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "snippet" -d 'Print Python code that connects a Client to a cluster'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "adapt" -d 'Set or clear a cluster\'s adaptive scaling policy (applied by `reconcile`)'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "reconcile" -d 'Apply every stored policy once (adaptive scaling), or keep doing it with --watch'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "apply" -d 'Create the cluster a spec file describes, or bring an existing one to it'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "backends" -d 'List, enable or disable backends'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "completions" -d 'Print a shell completion script'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and not __fish_seen_subcommand_from list describe create scale logs delete cleanup snippet adapt reconcile apply backends completions __complete-names help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and __fish_seen_subcommand_from backends" -f -a "list" -d 'Show every backend, whether it is enabled and usable here'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and __fish_seen_subcommand_from backends" -f -a "enable" -d 'Turn a backend on (persisted in the config file)'
complete -c daskctl -n "__fish_daskctl_using_subcommand help; and __fish_seen_subcommand_from backends" -f -a "disable" -d 'Turn a backend off: it is never queried'

# cluster names from daskctl's cache of the last discovery
complete -c daskctl -n "__fish_seen_subcommand_from describe scale logs delete rm snippet" -f -a "(daskctl __complete-names 2>/dev/null)"
