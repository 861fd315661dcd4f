# bash completion for qmpshell                                  -*- shell-script -*-
#
# Install (either):
#   cp qmpshell.bash ~/.local/share/bash-completion/completions/qmpshell
#   echo 'source /path/to/qmpshell.bash' >> ~/.bashrc
#
# Completes every option, file names after -f/--file, -l/--logfile and
# --history, the values of --color, and for the address the UNIX sockets found
# in the current directory, /run/qemu*, /var/lib/libvirt/qemu and
# $XDG_RUNTIME_DIR (two levels deep), and $QMP_SOCKET.

_qmpshell_options="-h --help -c --command -f --file -H --hmp -k --keep-going --pipeline -n --dry-run -p --pretty -v --verbose
--events --json --color --format -l --logfile -N --skip-negotiation --timeout --connect-timeout --launch
--no-reconnect --quiet-monitor --libvirt-uri --parallel --history --no-history --line --no-transcript --qapi-dir --hmp-via --hmp-coverage --history-script --replay --to-script --ignore --proxy --launch-pair --version --print-config"

# Print the sockets a QMP monitor is likely to be on, one per line.
_qmpshell_sockets()
{
    local dir path
    [[ -n ${QMP_SOCKET-} ]] && printf '%s\n' "$QMP_SOCKET"
    for path in * */*; do
        [[ -S $path ]] && printf '%s\n' "$path"
    done
    for dir in /run/qemu* /var/lib/libvirt/qemu ${XDG_RUNTIME_DIR:+"$XDG_RUNTIME_DIR"}; do
        [[ -d $dir ]] || continue
        for path in "$dir"/* "$dir"/*/*; do
            [[ -S $path ]] && printf '%s\n' "$path"
        done
    done
}

# The address: known sockets matching what is typed; directories and sockets
# under a typed path, so that any other socket can be reached too.
_qmpshell_complete_address()
{
    local cur=$1 path
    local -A seen=()
    compopt -o filenames 2>/dev/null
    while IFS= read -r path; do
        [[ $path == "$cur"* && -z ${seen[$path]-} ]] || continue
        seen[$path]=1
        COMPREPLY+=("$path")
    done < <(_qmpshell_sockets)
    if [[ $cur == */* || $cur == "~"* ]]; then
        while IFS= read -r path; do
            [[ ( -d $path || -S $path ) && -z ${seen[$path]-} ]] || continue
            seen[$path]=1
            COMPREPLY+=("$path")
        done < <(compgen -f -- "$cur")
    fi
}

_qmpshell()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} i
    COMPREPLY=()
    # "--color=al" arrives as "--color" "=" "al" ('=' is in COMP_WORDBREAKS).
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi
    # After "--" comes QEMU's argv for --launch: a command, then its files.
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == -- ]]; then
            if ((i == COMP_CWORD - 1)); then
                mapfile -t COMPREPLY < <(compgen -c -- "$cur")
            else
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            fi
            return 0
        fi
    done
    case $prev in
        -f | --file | -l | --logfile | --history | --replay)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return 0
            ;;
        --qapi-dir)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0
            ;;
        --hmp-via)
            mapfile -t COMPREPLY < <(compgen -W "auto qmp passthrough" -- "$cur")
            return 0
            ;;
        --color)
            mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur")
            return 0
            ;;
        --format)
            mapfile -t COMPREPLY < <(compgen -W "json human table" -- "$cur")
            return 0
            ;;
        -c | --command | --timeout | --connect-timeout | --libvirt-uri | --parallel | --proxy | --ignore | --history-script)
            return 0
            ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_qmpshell_options" -- "$cur")
        return 0
    fi
    _qmpshell_complete_address "$cur"
}

complete -F _qmpshell qmpshell
