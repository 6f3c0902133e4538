complete --keep-order --exclusive --command daskctl --arguments "(COMPLETE=fish daskctl -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
