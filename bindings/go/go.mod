module refold

go 1.19
