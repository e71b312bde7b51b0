//! `[cache] max_bytes`: the bound on the compiled-code cache in the data
//! directory.

use claimscript_server::ServiceConfig;
use claimscript_server::config::{DEFAULT_CACHE_MAX_BYTES, MIN_CACHE_MAX_BYTES};

fn parse(toml: &str) -> Result<ServiceConfig, String> {
    ServiceConfig::from_toml(toml, std::path::Path::new("/tmp"), None).map_err(|e| e.to_string())
}

#[test]
fn the_cache_bound_is_configurable_with_a_floor() {
    let default = parse("").expect("config");
    assert_eq!(default.cache.max_bytes, DEFAULT_CACHE_MAX_BYTES);
    assert_eq!(DEFAULT_CACHE_MAX_BYTES, 16 << 30);

    let set = parse("[cache]\nmax_bytes = 268435456\n").expect("config");
    assert_eq!(set.cache.max_bytes, 256 << 20);

    let small =
        parse("[audit]\nstdout = true\n[cache]\nmax_bytes = 1000\n").expect_err("below the floor");
    assert!(small.contains("`cache.max_bytes`"), "{small}");
    assert!(
        small.contains(&format!("must be at least {MIN_CACHE_MAX_BYTES}")),
        "{small}"
    );

    let unknown = parse("[cache]\nmax_size = 268435456\n").expect_err("unknown key");
    assert!(unknown.contains("max_size"), "{unknown}");
}
