
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'daskctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'daskctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'daskctl' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List clusters across all enabled backends')
            [CompletionResult]::new('ls', 'ls', [CompletionResultType]::ParameterValue, 'List clusters across all enabled backends')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Show one cluster in detail')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a cluster')
            [CompletionResult]::new('scale', 'scale', [CompletionResultType]::ParameterValue, 'Set a cluster''s number of workers')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show a cluster''s scheduler and worker logs')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a cluster and everything it runs')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a cluster and everything it runs')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Delete orphaned, idle or old clusters (previews unless --yes)')
            [CompletionResult]::new('snippet', 'snippet', [CompletionResultType]::ParameterValue, 'Print Python code that connects a Client to a cluster')
            [CompletionResult]::new('adapt', 'adapt', [CompletionResultType]::ParameterValue, 'Set or clear a cluster''s adaptive scaling policy (applied by `reconcile`)')
            [CompletionResult]::new('reconcile', 'reconcile', [CompletionResultType]::ParameterValue, 'Apply every stored policy once (adaptive scaling), or keep doing it with --watch')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Create the cluster a spec file describes, or bring an existing one to it')
            [CompletionResult]::new('backends', 'backends', [CompletionResultType]::ParameterValue, 'List, enable or disable backends')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'daskctl;list' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Only these backends (repeatable)')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only these backends (repeatable)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only clusters with this status (repeatable)')
            [CompletionResult]::new('--sort-by', '--sort-by', [CompletionResultType]::ParameterName, 'Order of the clusters (default: backend, then name)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between listings with --watch')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for each backend (seconds, or 500ms, 1m)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('--no-headers', '--no-headers', [CompletionResultType]::ParameterName, 'Table rows only, no header line (for scripts reading the table)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'daskctl;ls' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Only these backends (repeatable)')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only these backends (repeatable)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only clusters with this status (repeatable)')
            [CompletionResult]::new('--sort-by', '--sort-by', [CompletionResultType]::ParameterName, 'Order of the clusters (default: backend, then name)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between listings with --watch')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: a table, wide (more columns), json, yaml, or name (BACKEND/NAME per line)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for each backend (seconds, or 500ms, 1m)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('--no-headers', '--no-headers', [CompletionResultType]::ParameterName, 'Table rows only, no header line (for scripts reading the table)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'List again every --interval until Ctrl-C: redrawn in place on a terminal, one listing after another otherwise (json: one line per listing; yaml: one document per listing)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'daskctl;describe' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for each backend (seconds, or 500ms, 1m)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;create' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'A cluster spec (YAML): daskctl''s, or a dask-ctl spec (version: 1, module, class, kwargs); flags given on the command line override it')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'A cluster spec (YAML): daskctl''s, or a dask-ctl spec (version: 1, module, class, kwargs); flags given on the command line override it')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Cluster name (lowercase letters, digits, ''-''; default: generated)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Number of workers (default 2)')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads per worker')
            [CompletionResult]::new('--memory', '--memory', [CompletionResultType]::ParameterName, 'Memory limit per worker (e.g. 4GiB)')
            [CompletionResult]::new('--worker-group', '--worker-group', [CompletionResultType]::ParameterName, '[local, slurm, pbs, sge, htcondor, kubernetes, aws] Another group of workers beside the default one (repeatable): NAME:COUNT[:key=value,...] with threads, memory and, on batch backends, partition, account, walltime, cores, gpus, job-extra; on kubernetes cpu, gpus, image; on aws instance-type; e.g. gpu:2:threads=4,gpus=1')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: the new cluster as a table (describe''s), json or yaml; with --dry-run the plan')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: the new cluster as a table (describe''s), json or yaml; with --dry-run the plan')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the scheduler and workers')
            [CompletionResult]::new('--python', '--python', [CompletionResultType]::ParameterName, '[local, slurm, pbs, sge, htcondor] Python with distributed (local: default python3 on PATH; batch: on the compute nodes)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, '[local, slurm, pbs, sge, htcondor] Interface the scheduler and workers listen on')
            [CompletionResult]::new('--partition', '--partition', [CompletionResultType]::ParameterName, '[slurm, pbs, sge] Slurm partition, PBS or Grid Engine queue to submit to')
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, '[slurm, pbs, sge, htcondor] Account to charge (HTCondor: accounting_group)')
            [CompletionResult]::new('--walltime', '--walltime', [CompletionResultType]::ParameterName, '[slurm, pbs, sge, htcondor] Wall-clock limit of each job, HH:MM:SS (HTCondor: a periodic_remove)')
            [CompletionResult]::new('--cores', '--cores', [CompletionResultType]::ParameterName, '[slurm, pbs, sge, htcondor] Cores per worker job (default: --threads)')
            [CompletionResult]::new('--job-extra', '--job-extra', [CompletionResultType]::ParameterName, '[slurm, pbs, sge, htcondor] Extra directive for every job (repeatable), e.g. --job-extra=--qos=high')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, '[local, slurm, pbs, sge, htcondor, aws, kubernetes] End the cluster after its scheduler has been idle this long (Dask''s own --idle-timeout; on Kubernetes the operator''s idleTimeout): no daskctl needs to run, e.g. 30m')
            [CompletionResult]::new('--scheduler-port', '--scheduler-port', [CompletionResultType]::ParameterName, '[local] Scheduler port (default: any free port)')
            [CompletionResult]::new('--instance-type', '--instance-type', [CompletionResultType]::ParameterName, '[aws] Instance type of the scheduler (and of the workers unless --worker-instance-type)')
            [CompletionResult]::new('--worker-instance-type', '--worker-instance-type', [CompletionResultType]::ParameterName, '[aws] Instance type of the workers')
            [CompletionResult]::new('--ami', '--ami', [CompletionResultType]::ParameterName, '[aws] Machine image (default: backends.aws.ami, else the newest Ubuntu LTS)')
            [CompletionResult]::new('--subnet', '--subnet', [CompletionResultType]::ParameterName, '[aws] Subnet to launch into (default: the default VPC''s)')
            [CompletionResult]::new('--security-group', '--security-group', [CompletionResultType]::ParameterName, '[aws] Security group (repeatable; default: one daskctl creates for the cluster)')
            [CompletionResult]::new('--option', '--option', [CompletionResultType]::ParameterName, '[gateway] Cluster option KEY=VALUE (repeatable), checked against the gateway''s own (GET /api/v1/options)')
            [CompletionResult]::new('--key-name', '--key-name', [CompletionResultType]::ParameterName, '[aws] SSH key pair name')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, '[local, slurm, pbs, sge, htcondor, aws, kubernetes] Time to live: after it, `reconcile --yes` and `cleanup --orphaned` delete the cluster (e.g. 8h)')
            [CompletionResult]::new('--resources', '--resources', [CompletionResultType]::ParameterName, '[kubernetes] Worker container requests and limits, e.g. cpu=2,memory=4Gi')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, '[aws, kubernetes] Container image with Dask (default: ghcr.io/dask/dask:latest)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be submitted (job scripts, submit descriptions, Kubernetes objects, EC2 launch parameters and user data, local commands) and submit nothing')
            [CompletionResult]::new('--native', '--native', [CompletionResultType]::ParameterName, '[kubernetes] Plain Deployments and a Service, even where the dask-kubernetes operator runs (default there: a DaskCluster)')
            [CompletionResult]::new('--keep-failed', '--keep-failed', [CompletionResultType]::ParameterName, '[slurm, pbs, sge, htcondor] Keep the cluster''s shared directory (scripts, logs) when create fails')
            [CompletionResult]::new('--spot', '--spot', [CompletionResultType]::ParameterName, '[aws] Run the workers on spot instances')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;scale' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'The worker group to scale (see describe; default: the default group)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long --wait waits (and a scale down waits for workers to go)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the scheduler has exactly that many workers')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;logs' {
            [CompletionResult]::new('--worker', '--worker', [CompletionResultType]::ParameterName, 'Only this worker''s log (name or number)')
            [CompletionResult]::new('--tail', '--tail', [CompletionResultType]::ParameterName, 'Only the last N lines of each log')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'text: lines prefixed with [source]; json: one {"source", "line"} object per line')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'text: lines prefixed with [source]; json: one {"source", "line"} object per line')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('--scheduler', '--scheduler', [CompletionResultType]::ParameterName, 'Only the scheduler''s log')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing new lines')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new lines')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;delete' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the cluster''s resources to be gone')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until everything is gone (the local backend always does)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;rm' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the cluster''s resources to be gone')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until everything is gone (the local backend always does)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;cleanup' {
            [CompletionResult]::new('--idle', '--idle', [CompletionResultType]::ParameterName, 'Clusters whose scheduler has been idle at least this long (e.g. 30m)')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Clusters created at least this long ago (e.g. 2h)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Only these backends (repeatable)')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only these backends (repeatable)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for each backend (seconds, or 500ms, 1m)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('--orphaned', '--orphaned', [CompletionResultType]::ParameterName, 'Clusters whose scheduler is gone or silent, and dead leftovers')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Delete; without it cleanup only shows what it would delete')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Delete; without it cleanup only shows what it would delete')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;snippet' {
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;adapt' {
            [CompletionResult]::new('--minimum', '--minimum', [CompletionResultType]::ParameterName, 'Fewest workers to keep')
            [CompletionResult]::new('--maximum', '--maximum', [CompletionResultType]::ParameterName, 'Most workers to run')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'The worker group that grows and shrinks (the others keep their size; the bounds are the group''s); default: the default group')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for finding the cluster')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('--off', '--off', [CompletionResultType]::ParameterName, 'Remove the policy: the cluster keeps its current size')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;reconcile' {
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Only these backends (repeatable)')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Only these backends (repeatable)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between passes with --watch')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Deadline for each backend''s discovery')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Keep reconciling every --interval until interrupted')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Delete the clusters past their TTL, idle beyond their idle timeout, or ended by it (without --yes, reconcile says which it would delete and deletes none)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;apply' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The cluster spec (YAML; see `create -f`); it must name the cluster')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'The cluster spec (YAML; see `create -f`); it must name the cluster')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for a cluster it creates')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, '[aws] Regions to query, comma-separated or repeated (default: the profile''s or AWS_REGION)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, '[kubernetes] kubeconfig context')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, '[kubernetes] Only this namespace (create: where to create; default: the context''s)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, '[aws] Named profile from ~/.aws/config')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, '[kubernetes] Every namespace (the default for list and cleanup)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;backends' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every backend, whether it is enabled and usable here')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Turn a backend on (persisted in the config file)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Turn a backend off: it is never queried')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'daskctl;backends;list' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output: a table, or json or yaml for scripts')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;backends;enable' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;backends;disable' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;backends;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every backend, whether it is enabled and usable here')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Turn a backend on (persisted in the config file)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Turn a backend off: it is never queried')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'daskctl;backends;help;list' {
            break
        }
        'daskctl;backends;help;enable' {
            break
        }
        'daskctl;backends;help;disable' {
            break
        }
        'daskctl;backends;help;help' {
            break
        }
        'daskctl;completions' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;__complete-names' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (-v info, -vv debug)')
            [CompletionResult]::new('--no-probe', '--no-probe', [CompletionResultType]::ParameterName, 'Never connect to schedulers: report what the backends alone know')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'daskctl;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List clusters across all enabled backends')
            [CompletionResult]::new('describe', 'describe', [CompletionResultType]::ParameterValue, 'Show one cluster in detail')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create a cluster')
            [CompletionResult]::new('scale', 'scale', [CompletionResultType]::ParameterValue, 'Set a cluster''s number of workers')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show a cluster''s scheduler and worker logs')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a cluster and everything it runs')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Delete orphaned, idle or old clusters (previews unless --yes)')
            [CompletionResult]::new('snippet', 'snippet', [CompletionResultType]::ParameterValue, 'Print Python code that connects a Client to a cluster')
            [CompletionResult]::new('adapt', 'adapt', [CompletionResultType]::ParameterValue, 'Set or clear a cluster''s adaptive scaling policy (applied by `reconcile`)')
            [CompletionResult]::new('reconcile', 'reconcile', [CompletionResultType]::ParameterValue, 'Apply every stored policy once (adaptive scaling), or keep doing it with --watch')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Create the cluster a spec file describes, or bring an existing one to it')
            [CompletionResult]::new('backends', 'backends', [CompletionResultType]::ParameterValue, 'List, enable or disable backends')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'daskctl;help;list' {
            break
        }
        'daskctl;help;describe' {
            break
        }
        'daskctl;help;create' {
            break
        }
        'daskctl;help;scale' {
            break
        }
        'daskctl;help;logs' {
            break
        }
        'daskctl;help;delete' {
            break
        }
        'daskctl;help;cleanup' {
            break
        }
        'daskctl;help;snippet' {
            break
        }
        'daskctl;help;adapt' {
            break
        }
        'daskctl;help;reconcile' {
            break
        }
        'daskctl;help;apply' {
            break
        }
        'daskctl;help;backends' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show every backend, whether it is enabled and usable here')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Turn a backend on (persisted in the config file)')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Turn a backend off: it is never queried')
            break
        }
        'daskctl;help;backends;list' {
            break
        }
        'daskctl;help;backends;enable' {
            break
        }
        'daskctl;help;backends;disable' {
            break
        }
        'daskctl;help;completions' {
            break
        }
        'daskctl;help;__complete-names' {
            break
        }
        'daskctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
