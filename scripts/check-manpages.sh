#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check that the man pages document libkport whole: every function and
# static inline lib/kport.h declares has a page man/NAME.3, a real page or
# a one-line ".so man3/OTHER.3" link to one; the real page lists NAME in
# its NAME section and has its prototype in its SYNOPSIS exactly as the
# header writes it; every real man3 page has the sections of one
# (NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE, ERRORS, SEE ALSO); and no
# page documents a function the header no longer has.  Any finding fails.
#
#   scripts/check-manpages.sh
#
# Run from the top of the tree (scripts/lint.sh man runs it).  Needs CC
# (gcc, for -aux-info) and mandoc (to read a SYNOPSIS as it renders).
set -uo pipefail

CC=${CC:-gcc}
hdr=lib/kport.h
out=build/lint/man
mkdir -p "$out"
bad=0

problem() {
	echo "check-manpages: $*"
	bad=1
}

# The header's functions and static inlines, one name per line, as the
# compiler reads them: C for a declaration, F for a definition (the
# inlines).
"$CC" -Iuapi -Ilib -D_GNU_SOURCE -fsyntax-only -x c "$hdr" \
	-aux-info "$out/kport.aux" || { echo "check-manpages: $CC cannot read $hdr"; exit 1; }
sed -n "s|^/\* $hdr:[0-9]*:[NO][CF] \*/ *||p" "$out/kport.aux" |
	sed -n 's/^.*[ *]\(kport_[a-z0-9_]*\) *(.*$/\1/p' | sort -u >"$out/names"
[ -s "$out/names" ] || { echo "check-manpages: no function found in $hdr"; exit 1; }

# Each prototype as the header spells it, "NAME<TAB>PROTOTYPE;", with
# comments, preprocessor lines (the C++ guard among them) and function
# bodies taken out and white space made single spaces.
awk '
function emit(s, name) {
	gsub(/[ \t]+/, " ", s)
	sub(/^ /, "", s)
	sub(/ $/, "", s)
	if (!match(s, /kport_[a-z0-9_]+ ?\(/))
		return
	name = substr(s, RSTART, RLENGTH)
	sub(/ ?\($/, "", name)
	print name "\t" s ";"
}
{
	line = $0
	text = ""
	while (line != "") {
		if (incomment) {
			i = index(line, "*/")
			if (!i) {
				line = ""
				break
			}
			line = substr(line, i + 2)
			incomment = 0
			continue
		}
		i = index(line, "/*")
		if (!i) {
			text = text line
			break
		}
		text = text substr(line, 1, i - 1) " "
		line = substr(line, i + 2)
		incomment = 1
	}
	if (cont) {
		cont = text ~ /\\$/
		next
	}
	if (text ~ /^[ \t]*#/) {
		if (text ~ /^[ \t]*#[ \t]*ifdef[ \t]+__cplusplus/)
			cplusplus = 1
		else if (text ~ /^[ \t]*#[ \t]*endif/)
			cplusplus = 0
		cont = text ~ /\\$/
		next
	}
	if (cplusplus)
		next
	for (i = 1; i <= length(text); i++) {
		c = substr(text, i, 1)
		if (depth) {
			if (c == "{")
				depth++
			else if (c == "}")
				depth--
			continue
		}
		if (c == "{") {
			emit(stmt)
			stmt = ""
			depth = 1
		} else if (c == ";") {
			emit(stmt)
			stmt = ""
		} else {
			stmt = stmt c
		}
	}
	stmt = stmt " "
}' "$hdr" | sort >"$out/protos"
if ! diff -u --label "$hdr (compiler)" --label "$hdr (prototypes read here)" \
	"$out/names" <(cut -f1 "$out/protos" | sort -u); then
	problem "the prototypes read from $hdr are not its functions: fix this script"
fi

# A real page's SYNOPSIS as mandoc renders it, one prototype per line
# (NAME<TAB>PROTOTYPE;), white space normalised as above.
synopsis() {
	mandoc -Tascii "$1" | sed 's/.\x08//g' |
		awk '/^SYNOPSIS$/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
		grep -v '^ *#include' | tr -s ' \t\n' '   ' | tr ';' '\n' |
		sed -e 's/^ *//' -e 's/ *$//' -e 's/( /(/g' -e 's/ )/)/g' -e 's/ ,/,/g' |
		sed -n 's/^.*[ *]\(kport_[a-z0-9_]*\) *(.*$/\1\t&;/p'
}

# The names a real page's NAME section lists, one per line.
page_names() {
	sed -n '/^\.SH NAME$/,/^\.SH /p' "$1" | sed '1d;$d' | tr '\n' ' ' |
		sed 's/\\-.*//' | tr ',' '\n' | sed -e 's/^ *//' -e 's/ *$//' | awk 'NF'
}

# NAME.3 -> the real page it is or links to, or nothing (with a problem).
real_page() {
	local page=$1 target
	if ! grep -q '^\.so' "$page"; then
		echo "$page"
		return
	fi
	if [ "$(wc -l <"$page")" -ne 1 ] ||
		! target=$(sed -n 's|^\.so man3/\([a-z0-9_]*\.3\)$|\1|p' "$page") ||
		[ -z "$target" ]; then
		problem "$page: a link page is one line, .so man3/PAGE.3"
		return
	fi
	if [ ! -f "man/$target" ]; then
		problem "$page: links to man/$target, which does not exist"
		return
	fi
	if grep -q '^\.so' "man/$target"; then
		problem "$page: links to man/$target, itself a link"
		return
	fi
	echo "man/$target"
}

# Every real man3 page: the sections a function page has.
for page in man/*.3; do
	grep -q '^\.so' "$page" && continue
	for sec in NAME SYNOPSIS DESCRIPTION 'RETURN VALUE' ERRORS 'SEE ALSO'; do
		grep -qxE "\.SH \"?$sec\"?" "$page" || problem "$page: no $sec section"
	done
done

# Every function: its page, its NAME entry, its prototype.
while read -r name; do
	page=man/$name.3
	if [ ! -f "$page" ]; then
		problem "$name ($hdr) has no man page: man/$name.3 (a page, or .so man3/PAGE.3)"
		continue
	fi
	real=$(real_page "$page")
	[ -n "$real" ] || continue
	page_names "$real" | grep -qx "$name" ||
		problem "$real: its NAME section does not list $name"
	want=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$out/protos")
	got=$(synopsis "$real" | awk -F'\t' -v n="$name" '$1 == n { print $2 }')
	if [ -z "$got" ]; then
		problem "$real: its SYNOPSIS has no prototype of $name"
	elif [ "$got" != "$want" ]; then
		problem "$real: $name's prototype differs from $hdr:"
		echo "    $hdr: $want"
		echo "    $real: $got"
	fi
done <"$out/names"

# No page for what the header does not have (libkport.3 is the overview).
for page in man/*.3; do
	[ "$page" = man/libkport.3 ] && continue
	if grep -q '^\.so' "$page"; then
		grep -qx "$(basename "$page" .3)" "$out/names" ||
			problem "$page: links a name that $hdr does not declare"
		continue
	fi
	while read -r name; do
		grep -qx "$name" "$out/names" ||
			problem "$page: documents $name, which $hdr does not declare"
	done < <(page_names "$page")
done

if [ "$bad" -ne 0 ]; then
	exit 1
fi
echo "check-manpages: $(wc -l <"$out/names") functions of $hdr, each with its page and prototype"
