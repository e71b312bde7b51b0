//! The generated bindings for the `claimscript:script/claims-script` world.
//! Nothing here is public: the crate re-exports its own types instead.

#![allow(missing_docs, reason = "bindgen-generated code")]

wasmtime::component::bindgen!({
    // crates/host/wit is a symlink to the workspace's wit/, so the
    // published package carries the WIT (cargo package follows it).
    path: "wit",
    world: "claims-script",
    imports: {
        "claimscript:script/http.wait": async | trappable,
        default: trappable,
    },
    exports: { default: async },
});
