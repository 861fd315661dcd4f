# fish completion for qmpshell.
#
# Install: copy this file to ~/.config/fish/completions/qmpshell.fish
# (fish loads it the first time qmpshell is completed).
#
# Completes every option, file names after -f/--file, -l/--logfile and
# --history, the values of --color, and for the address the UNIX sockets found
# in the current directory, /run/qemu*, /var/lib/libvirt/qemu and
# $XDG_RUNTIME_DIR (two levels deep), and $QMP_SOCKET.

# The sockets a QMP monitor is likely to be on, one per line.
function __qmpshell_sockets
    set -q QMP_SOCKET; and test -n "$QMP_SOCKET"; and echo $QMP_SOCKET
    for path in * */*
        test -S $path; and echo $path
    end
    set -l dirs /run/qemu* /var/lib/libvirt/qemu
    set -q XDG_RUNTIME_DIR; and test -n "$XDG_RUNTIME_DIR"; and set -a dirs $XDG_RUNTIME_DIR
    for dir in $dirs
        test -d $dir; or continue
        for path in $dir/* $dir/*/*
            test -S $path; and echo $path
        end
    end
end

# True while the word being completed is QEMU's argv (after "--").
function __qmpshell_after_dashdash
    contains -- -- (commandline -opc)
end

# QEMU's argv after "--", completed as a command line of its own.
function __qmpshell_qemu_argv
    set -l words (commandline -opc) (commandline -ct)
    set -l at (contains -i -- -- $words)
    __fish_complete_subcommand --commandline $words[(math $at + 1)..-1]
end

complete -c qmpshell -f
complete -c qmpshell -n 'not __qmpshell_after_dashdash' -a '(__qmpshell_sockets)' -d 'QMP socket'
complete -c qmpshell -n __qmpshell_after_dashdash -x -a '(__qmpshell_qemu_argv)'

complete -c qmpshell -s h -l help -d 'show the help and exit'
complete -c qmpshell -s c -l command -x -d 'run LINE (repeatable, in order)'
complete -c qmpshell -s f -l file -r -F -d 'run the script in PATH (- is stdin)'
complete -c qmpshell -s H -l hmp -d 'lines are HMP commands'
complete -c qmpshell -s k -l keep-going -d 'run every line even after a failure'
complete -c qmpshell -l pipeline -d 'send up to 8 lines before their replies'
complete -c qmpshell -s n -l dry-run -d 'print the JSON each line would send; send nothing'
complete -c qmpshell -s p -l pretty -d 'indent JSON replies'
complete -c qmpshell -s v -l verbose -d 'write each command as sent before its reply'
complete -c qmpshell -l events -d 'batch: write events to stdout as they arrive'
complete -c qmpshell -l json -d 'batch: print only the return values'
complete -c qmpshell -l color -x -a 'auto always never' -d 'colour output'
complete -c qmpshell -l format -x -a 'json human table' -d 'replies as JSON or for people'
complete -c qmpshell -s l -l logfile -r -F -d 'append every message sent and received to PATH'
complete -c qmpshell -s N -l skip-negotiation -d 'no greeting or qmp_capabilities'
complete -c qmpshell -l timeout -x -d 'fail a command with no reply in SECONDS'
complete -c qmpshell -l connect-timeout -x -d 'wait SECONDS for the greeting'
complete -c qmpshell -l launch -d 'start QEMU (argv after --) and connect to it'
complete -c qmpshell -l no-reconnect -d 'interactive: do not reconnect when QEMU goes'
complete -c qmpshell -l quiet-monitor -d 'send only what you type (and qmp_capabilities, the schema when not cached)'
complete -c qmpshell -l libvirt-uri -x -d 'libvirt URI for libvirt:DOMAIN'
complete -c qmpshell -l parallel -x -d 'with several targets, run N at a time'
complete -c qmpshell -l history -r -F -d 'history file'
complete -c qmpshell -l no-history -d 'keep no history file'
complete -c qmpshell -l line -d 'a prompt and lines, no full screen (as with TERM=dumb)'
complete -c qmpshell -l no-transcript -d 'do not print the session to the terminal on exit'
complete -c qmpshell -l qapi-dir -x -a '(__fish_complete_directories)' -d 'QEMU source tree for /help\'s documentation'
complete -c qmpshell -l hmp-via -x -a 'auto qmp passthrough' -d 'HMP lines translated to QMP, passed to HMP, or both'
complete -c qmpshell -l hmp-coverage -d 'print which HMP commands run over QMP'
complete -c qmpshell -l history-script -x -d 'print the last N history statements as a script'
complete -c qmpshell -l replay -r -F -d 'replay the commands of a log and compare the replies'
complete -c qmpshell -l to-script -r -F -d 'print the commands of a log as a script'
complete -c qmpshell -l ignore -x -d '--replay: leave out members named KEY'
complete -c qmpshell -l proxy -x -d 'serve QMP clients on LISTEN through one connection to UPSTREAM'
complete -c qmpshell -l launch-pair -d 'start a migration source and destination (argv after --)'
complete -c qmpshell -l version -d 'print the version (and the server\'s, with -c)'
complete -c qmpshell -l print-config -d 'print the settings in effect, as TOML'
