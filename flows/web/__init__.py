"""The care group's workspace in the browser (issue 15): a thin entry point over the service functions, like the
CLI. No rule, state change or message is made here; the pages read services and the forms call them."""
