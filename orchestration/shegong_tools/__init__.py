"""The project's development tools, apart from the runtime package `shegong`: the sample landing-data
generator (`generate`, behind `shegong generate`, `make run` and the tests) and the benchmark (`bench`, behind
`shegong bench`). They import `shegong`; `shegong` reaches them only through those two CLI commands."""
