
use builtin;
use str;

set edit:completion:arg-completer[daskctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'daskctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'daskctl'= {
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List clusters across all enabled backends'
            cand ls 'List clusters across all enabled backends'
            cand describe 'Show one cluster in detail'
            cand create 'Create a cluster'
            cand scale 'Set a cluster''s number of workers'
            cand logs 'Show a cluster''s scheduler and worker logs'
            cand delete 'Delete a cluster and everything it runs'
            cand rm 'Delete a cluster and everything it runs'
            cand cleanup 'Delete orphaned, idle or old clusters (previews unless --yes)'
            cand snippet 'Print Python code that connects a Client to a cluster'
            cand adapt 'Set or clear a cluster''s adaptive scaling policy (applied by `reconcile`)'
            cand reconcile 'Apply every stored policy once (adaptive scaling), or keep doing it with --watch'
            cand apply 'Create the cluster a spec file describes, or bring an existing one to it'
            cand backends 'List, enable or disable backends'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'daskctl;list'= {
            cand -b 'Only these backends (repeatable)'
            cand --backend 'Only these backends (repeatable)'
            cand --status 'Only clusters with this status (repeatable)'
            cand --sort-by 'Order of the clusters (default: backend, then name)'
            cand --interval 'Time between listings with --watch'
            cand -o 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)'
            cand --output 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)'
            cand --timeout 'Deadline for each backend (seconds, or 500ms, 1m)'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand --no-headers 'Table rows only, no header line (for scripts reading the table)'
            cand -w 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)'
            cand --watch 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'daskctl;ls'= {
            cand -b 'Only these backends (repeatable)'
            cand --backend 'Only these backends (repeatable)'
            cand --status 'Only clusters with this status (repeatable)'
            cand --sort-by 'Order of the clusters (default: backend, then name)'
            cand --interval 'Time between listings with --watch'
            cand -o 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)'
            cand --output 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)'
            cand --timeout 'Deadline for each backend (seconds, or 500ms, 1m)'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand --no-headers 'Table rows only, no header line (for scripts reading the table)'
            cand -w 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)'
            cand --watch 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'daskctl;describe'= {
            cand -o 'Output: a table, or json or yaml for scripts'
            cand --output 'Output: a table, or json or yaml for scripts'
            cand --timeout 'Deadline for each backend (seconds, or 500ms, 1m)'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;create'= {
            cand -f 'A cluster spec (YAML): daskctl''s, or a dask-ctl spec (version: 1, module, class, kwargs); flags given on the command line override it'
            cand --file 'A cluster spec (YAML): daskctl''s, or a dask-ctl spec (version: 1, module, class, kwargs); flags given on the command line override it'
            cand --name 'Cluster name (lowercase letters, digits, ''-''; default: generated)'
            cand --workers 'Number of workers (default 2)'
            cand --threads 'Threads per worker'
            cand --memory 'Memory limit per worker (e.g. 4GiB)'
            cand --worker-group '[local, slurm, pbs, sge, htcondor, kubernetes, aws] Another group of workers beside the default one (repeatable): NAME:COUNT[:key=value,...] with threads, memory and, on batch backends, partition, account, walltime, cores, gpus, job-extra; on kubernetes cpu, gpus, image; on aws instance-type; e.g. gpu:2:threads=4,gpus=1'
            cand -o 'Output: the new cluster as a table (describe''s), json or yaml; with --dry-run the plan'
            cand --output 'Output: the new cluster as a table (describe''s), json or yaml; with --dry-run the plan'
            cand --timeout 'How long to wait for the scheduler and workers'
            cand --python '[local, slurm, pbs, sge, htcondor] Python with distributed (local: default python3 on PATH; batch: on the compute nodes)'
            cand --host '[local, slurm, pbs, sge, htcondor] Interface the scheduler and workers listen on'
            cand --partition '[slurm, pbs, sge] Slurm partition, PBS or Grid Engine queue to submit to'
            cand --account '[slurm, pbs, sge, htcondor] Account to charge (HTCondor: accounting_group)'
            cand --walltime '[slurm, pbs, sge, htcondor] Wall-clock limit of each job, HH:MM:SS (HTCondor: a periodic_remove)'
            cand --cores '[slurm, pbs, sge, htcondor] Cores per worker job (default: --threads)'
            cand --job-extra '[slurm, pbs, sge, htcondor] Extra directive for every job (repeatable), e.g. --job-extra=--qos=high'
            cand --idle-timeout '[local, slurm, pbs, sge, htcondor, aws, kubernetes] End the cluster after its scheduler has been idle this long (Dask''s own --idle-timeout; on Kubernetes the operator''s idleTimeout): no daskctl needs to run, e.g. 30m'
            cand --scheduler-port '[local] Scheduler port (default: any free port)'
            cand --instance-type '[aws] Instance type of the scheduler (and of the workers unless --worker-instance-type)'
            cand --worker-instance-type '[aws] Instance type of the workers'
            cand --ami '[aws] Machine image (default: backends.aws.ami, else the newest Ubuntu LTS)'
            cand --subnet '[aws] Subnet to launch into (default: the default VPC''s)'
            cand --security-group '[aws] Security group (repeatable; default: one daskctl creates for the cluster)'
            cand --option '[gateway] Cluster option KEY=VALUE (repeatable), checked against the gateway''s own (GET /api/v1/options)'
            cand --key-name '[aws] SSH key pair name'
            cand --ttl '[local, slurm, pbs, sge, htcondor, aws, kubernetes] Time to live: after it, `reconcile --yes` and `cleanup --orphaned` delete the cluster (e.g. 8h)'
            cand --resources '[kubernetes] Worker container requests and limits, e.g. cpu=2,memory=4Gi'
            cand --image '[aws, kubernetes] Container image with Dask (default: ghcr.io/dask/dask:latest)'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand --dry-run 'Print what would be submitted (job scripts, submit descriptions, Kubernetes objects, EC2 launch parameters and user data, local commands) and submit nothing'
            cand --native '[kubernetes] Plain Deployments and a Service, even where the dask-kubernetes operator runs (default there: a DaskCluster)'
            cand --keep-failed '[slurm, pbs, sge, htcondor] Keep the cluster''s shared directory (scripts, logs) when create fails'
            cand --spot '[aws] Run the workers on spot instances'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;scale'= {
            cand --group 'The worker group to scale (see describe; default: the default group)'
            cand --timeout 'How long --wait waits (and a scale down waits for workers to go)'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand --wait 'Wait until the scheduler has exactly that many workers'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;logs'= {
            cand --worker 'Only this worker''s log (name or number)'
            cand --tail 'Only the last N lines of each log'
            cand -o 'text: lines prefixed with [source]; json: one {"source", "line"} object per line'
            cand --output 'text: lines prefixed with [source]; json: one {"source", "line"} object per line'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand --scheduler 'Only the scheduler''s log'
            cand -f 'Keep printing new lines'
            cand --follow 'Keep printing new lines'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;delete'= {
            cand --timeout 'How long to wait for the cluster''s resources to be gone'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --wait 'Wait until everything is gone (the local backend always does)'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;rm'= {
            cand --timeout 'How long to wait for the cluster''s resources to be gone'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --wait 'Wait until everything is gone (the local backend always does)'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;cleanup'= {
            cand --idle 'Clusters whose scheduler has been idle at least this long (e.g. 30m)'
            cand --older-than 'Clusters created at least this long ago (e.g. 2h)'
            cand -b 'Only these backends (repeatable)'
            cand --backend 'Only these backends (repeatable)'
            cand -o 'Output: a table, or json or yaml for scripts'
            cand --output 'Output: a table, or json or yaml for scripts'
            cand --timeout 'Deadline for each backend (seconds, or 500ms, 1m)'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand --orphaned 'Clusters whose scheduler is gone or silent, and dead leftovers'
            cand -y 'Delete; without it cleanup only shows what it would delete'
            cand --yes 'Delete; without it cleanup only shows what it would delete'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;snippet'= {
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;adapt'= {
            cand --minimum 'Fewest workers to keep'
            cand --maximum 'Most workers to run'
            cand --group 'The worker group that grows and shrinks (the others keep their size; the bounds are the group''s); default: the default group'
            cand --timeout 'Deadline for finding the cluster'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand --off 'Remove the policy: the cluster keeps its current size'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;reconcile'= {
            cand -b 'Only these backends (repeatable)'
            cand --backend 'Only these backends (repeatable)'
            cand --interval 'Time between passes with --watch'
            cand -o 'Output: a table, or json or yaml for scripts'
            cand --output 'Output: a table, or json or yaml for scripts'
            cand --timeout 'Deadline for each backend''s discovery'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand --watch 'Keep reconciling every --interval until interrupted'
            cand --yes 'Delete the clusters past their TTL, idle beyond their idle timeout, or ended by it (without --yes, reconcile says which it would delete and deletes none)'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;apply'= {
            cand -f 'The cluster spec (YAML; see `create -f`); it must name the cluster'
            cand --file 'The cluster spec (YAML; see `create -f`); it must name the cluster'
            cand -o 'Output: a table, or json or yaml for scripts'
            cand --output 'Output: a table, or json or yaml for scripts'
            cand --timeout 'How long to wait for a cluster it creates'
            cand --region '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)'
            cand --context '[kubernetes] kubeconfig context'
            cand --namespace '[kubernetes] Only this namespace (create: where to create; default: the context''s)'
            cand --profile '[aws] Named profile from ~/.aws/config'
            cand -A '[kubernetes] Every namespace (the default for list and cleanup)'
            cand --all-namespaces '[kubernetes] Every namespace (the default for list and cleanup)'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;backends'= {
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'Show every backend, whether it is enabled and usable here'
            cand enable 'Turn a backend on (persisted in the config file)'
            cand disable 'Turn a backend off: it is never queried'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'daskctl;backends;list'= {
            cand -o 'Output: a table, or json or yaml for scripts'
            cand --output 'Output: a table, or json or yaml for scripts'
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;backends;enable'= {
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;backends;disable'= {
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;backends;help'= {
            cand list 'Show every backend, whether it is enabled and usable here'
            cand enable 'Turn a backend on (persisted in the config file)'
            cand disable 'Turn a backend off: it is never queried'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'daskctl;backends;help;list'= {
        }
        &'daskctl;backends;help;enable'= {
        }
        &'daskctl;backends;help;disable'= {
        }
        &'daskctl;backends;help;help'= {
        }
        &'daskctl;completions'= {
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;__complete-names'= {
            cand -v 'More detail on stderr (-v info, -vv debug)'
            cand --verbose 'More detail on stderr (-v info, -vv debug)'
            cand --no-probe 'Never connect to schedulers: report what the backends alone know'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'daskctl;help'= {
            cand list 'List clusters across all enabled backends'
            cand describe 'Show one cluster in detail'
            cand create 'Create a cluster'
            cand scale 'Set a cluster''s number of workers'
            cand logs 'Show a cluster''s scheduler and worker logs'
            cand delete 'Delete a cluster and everything it runs'
            cand cleanup 'Delete orphaned, idle or old clusters (previews unless --yes)'
            cand snippet 'Print Python code that connects a Client to a cluster'
            cand adapt 'Set or clear a cluster''s adaptive scaling policy (applied by `reconcile`)'
            cand reconcile 'Apply every stored policy once (adaptive scaling), or keep doing it with --watch'
            cand apply 'Create the cluster a spec file describes, or bring an existing one to it'
            cand backends 'List, enable or disable backends'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'daskctl;help;list'= {
        }
        &'daskctl;help;describe'= {
        }
        &'daskctl;help;create'= {
        }
        &'daskctl;help;scale'= {
        }
        &'daskctl;help;logs'= {
        }
        &'daskctl;help;delete'= {
        }
        &'daskctl;help;cleanup'= {
        }
        &'daskctl;help;snippet'= {
        }
        &'daskctl;help;adapt'= {
        }
        &'daskctl;help;reconcile'= {
        }
        &'daskctl;help;apply'= {
        }
        &'daskctl;help;backends'= {
            cand list 'Show every backend, whether it is enabled and usable here'
            cand enable 'Turn a backend on (persisted in the config file)'
            cand disable 'Turn a backend off: it is never queried'
        }
        &'daskctl;help;backends;list'= {
        }
        &'daskctl;help;backends;enable'= {
        }
        &'daskctl;help;backends;disable'= {
        }
        &'daskctl;help;completions'= {
        }
        &'daskctl;help;__complete-names'= {
        }
        &'daskctl;help;help'= {
        }
    ]
    $completions[$command]
}
