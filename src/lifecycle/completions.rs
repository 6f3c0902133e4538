//! Static completion scripts from clap_complete, plus a hook (bash, zsh, fish) that completes
//! cluster names from the name cache via the hidden `__complete-names` command.

use super::App;
use crate::cli::Cli;
use crate::discovery::cache;
use crate::error::Result;
use clap::CommandFactory;
use clap_complete::Shell;

const NAME_VERBS: &str = "describe scale logs delete rm snippet";

/// clap_complete offers hidden subcommands too: `__complete-names` (the hooks' helper) is never
/// offered. Bash: out of the word lists (its `case` branches stay, unreachable); the other
/// shells: the one line that offers it.
fn hide_names_verb(shell: Shell, generated: &str) -> String {
    const VERB: &str = "__complete-names";
    let kept = generated.lines().filter_map(|l| {
        if !l.contains(VERB) {
            return Some(l.to_string());
        }
        match shell {
            Shell::Bash if l.trim_start().starts_with("opts=") => {
                Some(l.replace(&format!(" {VERB}"), ""))
            }
            Shell::Bash => Some(l.to_string()),
            // zsh: the `'__complete-names:...'` entry of the verbs list; its own function stays
            Shell::Zsh if l.trim_start().starts_with(&format!("'{VERB}")) => None,
            // fish, powershell, elvish: the one line that offers it (the blocks for the verb
            // itself stay, unreachable)
            Shell::Fish if l.contains(&format!("-a \"{VERB}\"")) => None,
            Shell::PowerShell if l.contains(&format!("[CompletionResult]::new('{VERB}'")) => None,
            Shell::Elvish if l.contains(&format!("cand {VERB} ")) => None,
            _ => Some(l.to_string()),
        }
    });
    kept.collect::<Vec<_>>().join("\n") + "\n"
}

pub fn script(shell: Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "daskctl", &mut buf);
    let mut s = hide_names_verb(shell, &String::from_utf8(buf).expect("utf-8"));
    match shell {
        Shell::Bash => s.push_str(&format!(
            r#"
# cluster names (from daskctl's cache of the last discovery) after {NAME_VERBS}
_daskctl_names() {{
    local i sub="" pos=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${{COMP_WORDS[i]}}" in
            -*) ;;
            *) if [[ -z $sub ]]; then sub=${{COMP_WORDS[i]}}; else pos=$((pos + 1)); fi ;;
        esac
    done
    case " {NAME_VERBS} " in
        *" $sub "*)
            if [[ $pos -eq 0 && ${{COMP_WORDS[COMP_CWORD]}} != -* ]]; then
                COMPREPLY=($(compgen -W "$(daskctl __complete-names 2>/dev/null)" -- "${{COMP_WORDS[COMP_CWORD]}}"))
                return 0
            fi ;;
    esac
    _daskctl "$@"
}}
complete -F _daskctl_names -o nosort -o bashdefault -o default daskctl
"#
        )),
        Shell::Zsh => {
            s = s.replace(
                ":name -- NAME or BACKEND/NAME:_default",
                ":name -- NAME or BACKEND/NAME:_daskctl_cluster_names",
            );
            s.push_str(
                r#"
(( $+functions[_daskctl_cluster_names] )) ||
_daskctl_cluster_names() {
    local -a names
    names=(${(f)"$(daskctl __complete-names 2>/dev/null)"})
    _describe -t clusters 'cluster' names
}
"#,
            );
        }
        Shell::Fish => s.push_str(&format!(
            "\n# cluster names from daskctl's cache of the last discovery\ncomplete -c daskctl -n \"__fish_seen_subcommand_from {NAME_VERBS}\" -f -a \"(daskctl __complete-names 2>/dev/null)\"\n"
        )),
        _ => {}
    }
    s
}

pub fn run(app: &App, shell: Shell) -> Result<()> {
    app.out.data(script(shell).trim_end());
    Ok(())
}

pub fn names(app: &App) -> Result<()> {
    for n in cache::load(&app.ctx.config.cache_root()) {
        app.out.data(&n);
    }
    Ok(())
}
