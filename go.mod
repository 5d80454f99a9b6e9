module github.com/retlab/retlab

go 1.26
