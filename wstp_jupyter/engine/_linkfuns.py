LINK_BUILTINS: list = []
