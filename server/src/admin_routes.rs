//! Every route of the admin API, in one list: [`crate::admin_api::router`] builds the router
//! from it (a route that is not listed does not exist), and the tests that check that a
//! non-admin gets `403` from every admin call loop over it (`server/tests/admin.rs`, and
//! `e2e/tests/admin.rs`, which includes this file). Keep it free of dependencies.

/// (method, path) of every admin route; `{name}` is a path parameter.
pub const ADMIN_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/admin/config"),
    ("PUT", "/api/admin/config/{section}"),
    ("POST", "/api/admin/hours/preview"),
    ("GET", "/api/admin/agents"),
    ("POST", "/api/admin/agents"),
    ("PUT", "/api/admin/agents/{login}"),
    ("POST", "/api/admin/agents/{login}/password"),
    ("GET", "/api/admin/knowledge"),
    ("POST", "/api/admin/knowledge"),
    ("PUT", "/api/admin/knowledge/{id}"),
    ("POST", "/api/admin/knowledge/import"),
    ("GET", "/api/admin/knowledge/export"),
    ("POST", "/api/admin/robot/ask"),
    ("GET", "/api/admin/audit"),
];
