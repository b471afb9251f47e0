"""The gateway's routes, one module per resource; every handler is a module-level
function that reaches the server's stubs through the application's state."""
