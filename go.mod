module github.com/retlab/retlab

go 1.26

require (
	github.com/go-echarts/go-echarts/v2 v2.6.7
	github.com/nlpodyssey/safetensors v0.0.0-20250209183917-bfb01cc25f7c
)
