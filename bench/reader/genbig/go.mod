module genbig

go 1.22
