std = "luajit"
max_line_length = 130
files["tests/lua"] = { std = "+busted" }
-- strategy rules share one signature (d, ind, i, p); not every rule reads every argument
files["strategies"] = { unused_args = false }
exclude_files = { "build" }
