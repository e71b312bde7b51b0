//! The generated bindings for the `claimscript:script/claims-script` world.
//! Nothing here is public: the crate re-exports its own types instead.

#![allow(missing_docs, reason = "bindgen-generated code")]

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "claims-script",
    imports: {
        "claimscript:script/http.wait": async | trappable,
        default: trappable,
    },
    exports: { default: async },
});
