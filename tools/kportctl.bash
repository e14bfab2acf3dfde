# SPDX-License-Identifier: GPL-2.0
# bash completion for kportctl(1): commands, their options, and port names
# read from /proc/kport (KPORTCTL_PROC names another file, for tests).
# Port names are other users' data: they are never evaluated.
# Installed as $(PREFIX)/share/bash-completion/completions/kportctl.

# The names of the ports the caller can see (column "name" of /proc/kport;
# "-" is an anonymous port).  Found by the header, not by position.
_kportctl_ports()
{
	local proc=${KPORTCTL_PROC:-/proc/kport}

	[ -r "$proc" ] || return 0
	awk -F '\t' '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == "name") col = i; next }
		col && $col != "-" { print $col }' "$proc" 2>/dev/null
}

_kportctl()
{
	local cur prev cmd opts i
	local commands="create delete send recv stat chmod chown list version help"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	if [ "$COMP_CWORD" -eq 1 ]; then
		mapfile -t COMPREPLY < <(compgen -W "$commands --version --help" -- "$cur")
		return 0
	fi
	cmd=${COMP_WORDS[1]}

	# An option's value.
	case "$prev" in
	--file | -f)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	--capacity)
		mapfile -t COMPREPLY < <(compgen -W "0 1 16 unbounded" -- "$cur")
		return 0
		;;
	--inbox | --from | --msg-size | --pool | --mode | --hold | --timeout | -t | \
	--priority | -p)
		return 0
		;;
	esac

	case "$cmd" in
	create)
		opts="--capacity --msg-size --fixed --pool --zero-copy --mode --process --hold --help" ;;
	delete)	opts="--inbox --help" ;;
	send)	opts="--file --nonblock --timeout --priority --inbox --help" ;;
	recv)	opts="--file --nonblock --timeout --from --verbose --json --inbox --help" ;;
	stat)	opts="--inbox --json --help" ;;
	chmod | chown) opts="--inbox --help" ;;
	list)	opts="--json --help" ;;
	version) opts="--help" ;;
	help)
		[ "$COMP_CWORD" -eq 2 ] &&
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		return 0
		;;
	*)	return 0 ;;
	esac

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return 0
	fi
	# The port operand: once, and not for create (a new name) or list;
	# chmod and chown take theirs after the mode or owner.
	local first=2
	case "$cmd" in
	delete | send | recv | stat) ;;
	chmod | chown) first=3 ;;
	*) return 0 ;;
	esac
	[ "$COMP_CWORD" -ge "$first" ] || return 0
	for ((i = first; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in
		--inbox) return 0 ;;
		--file | -f | --timeout | -t | --priority | -p | --from) ((i++)) ;;
		-*) ;;
		*) return 0 ;;
		esac
	done
	# Port names are anyone's (any printable ASCII but space and '/'):
	# never through compgen -W, which would expand $(...) in them, but
	# compared as strings and offered quoted.
	local name
	while IFS= read -r name; do
		[[ $name == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$name")")
	done < <(_kportctl_ports)
	return 0
}
complete -F _kportctl kportctl
