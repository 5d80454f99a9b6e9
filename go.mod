module github.com/retlab/retlab

go 1.26

require golang.org/x/sys v0.40.0 // indirect
