// Package setupcheck tests the project's set-up (the Makefile, mk/*.mk, deps/
// and scripts/) the way a new user meets it: on a fresh, stock Debian machine.
//
// The developers' machines are not fresh, so a step that works only because
// something was installed before passes there and fails for everyone else.
// These tests look at the set-up from outside instead:
//
//   - `make -n -B run` (every step as if nothing were installed) must name no
//     test-only or benchmark-only dependency, and `make -n -B test` must;
//   - every Debian package any set-up step installs must have a candidate
//     version under a temporary stock apt configuration (Debian 12, main only),
//     built with apt's -o Dir::... options so the machine's own sources,
//     lists and installed packages play no part;
//   - the project's JupyterLab settings are what the server reports.
//
// There is no code here, only tests.
package setupcheck
