module refold-sample

go 1.19

require refold v0.0.0

replace refold => ../../bindings/go
