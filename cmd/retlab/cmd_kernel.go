package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/retlab/retlab/kernel"
)

func init() {
	register("kernel", command{"Jupyter kernel: install | uninstall | warm | run --connection-file F", runKernel})
}

const kernelUsage = `usage:
  retlab kernel install   [--user | --sys-prefix | --prefix DIR] [--name N] [--display-name S] [--python PY] [--echarts FILE]
  retlab kernel uninstall [--user | --sys-prefix | --prefix DIR] [--name N]
  retlab kernel warm      (build what a starting kernel needs into the Go build cache, once per machine)
  retlab kernel run --connection-file FILE     (what the kernelspec runs)
`

func runKernel(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, kernelUsage)
		return errUsage
	}
	switch args[0] {
	case "install", "uninstall":
		fs := newFlags("kernel "+args[0], stderr)
		user := fs.Bool("user", false, "install for the current user ($JUPYTER_DATA_DIR or ~/.local/share/jupyter; the default)")
		sysPrefix := fs.Bool("sys-prefix", false, "install into the Python environment ($VIRTUAL_ENV, or --python's sys.prefix)")
		prefix := fs.String("prefix", "", "install into DIR/share/jupyter/kernels")
		name := fs.String("name", "retlab", "kernel name")
		python := fs.String("python", "", "python whose sys.prefix --sys-prefix uses (default: $VIRTUAL_ENV, else python3)")
		display := fs.String("display-name", "Go (RetLab)", "name shown in JupyterLab's launcher")
		echarts := fs.String("echarts", "", "echarts.min.js to copy into the kernelspec (default: $RETLAB_ECHARTS_JS or node_modules/echarts/dist)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		o := kernel.InstallOptions{Scope: kernel.ScopeUser, Name: *name, DisplayName: *display, Python: *python, EChartsJS: *echarts}
		n := 0
		if *user {
			n++
		}
		if *sysPrefix {
			o.Scope = kernel.ScopeSysPrefix
			n++
		}
		if *prefix != "" {
			o.Scope, o.Prefix = kernel.ScopePrefix, *prefix
			n++
		}
		if n > 1 {
			return errors.New("choose one of --user, --sys-prefix, --prefix")
		}
		if args[0] == "uninstall" {
			dir, err := kernel.Uninstall(o)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "removed kernelspec %s\n", dir)
			return nil
		}
		dir, note, err := kernel.Install(o)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "installed kernelspec %q in %s\n%s\n", *name, dir, note)
		return nil
	case "warm":
		if err := parseFlags(newFlags("kernel warm", stderr), args[1:]); err != nil {
			return err
		}
		return kernel.Warm(stderr)
	case "run":
		fs := newFlags("kernel run", stderr)
		conn := fs.String("connection-file", "", "connection file written by Jupyter")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *conn == "" {
			return errors.New("--connection-file is required")
		}
		return kernel.Run(*conn)
	}
	fmt.Fprint(stderr, kernelUsage)
	return errUsage
}
