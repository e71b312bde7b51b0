//! OCI manifests, media types and the Wasm artifact layout. Pure: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// The OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI image index media type (refused: an artifact is one manifest).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker's schema 2 manifest media type (accepted when pulling signatures).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// The Wasm OCI artifact's config media type.
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
/// The Wasm OCI artifact's one layer.
pub const WASM_LAYER: &str = "application/wasm";
/// The manifest annotation that carries the script's grants (TOML text).
/// Being in the manifest, the grants are covered by the manifest digest and
/// so by its signature, and the artifact keeps the standard one-layer layout
/// that other Wasm OCI tools (wkg, oci-wasm) pull.
pub const GRANTS_ANNOTATION: &str = "dev.claimscript.grants.v1+toml";
/// The config media type of a cosign signature manifest.
pub const OCI_IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The layer media type of a cosign "simple signing" payload.
pub const COSIGN_SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding the base64 signature of the payload.
pub const COSIGN_SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The largest grants text carried in the annotation.
pub const MAX_GRANTS_BYTES: usize = 256 * 1024;

/// A content descriptor: what a manifest says about a blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The blob's media type.
    pub media_type: String,
    /// The blob's digest.
    pub digest: Digest,
    /// The blob's size in bytes.
    pub size: u64,
    /// Annotations (cosign puts the signature here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The descriptor of `bytes` with `media_type`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: Digest::of(bytes),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        }
    }
}

/// An OCI image manifest (schema version 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest media type (absent in some Docker manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers.
    pub layers: Vec<Descriptor>,
    /// Manifest annotations (the grants travel here).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// A manifest of `config` and `layers`.
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> Manifest {
        Manifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.to_string()),
            config,
            layers,
            annotations: BTreeMap::new(),
        }
    }

    /// The JSON bytes that are pushed and digested.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising these plain structs cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parse manifest bytes; the error names the JSON problem.
    pub fn from_bytes(bytes: &[u8]) -> Result<Manifest, String> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if m.schema_version != 2 {
            return Err(format!("schemaVersion {} (expected 2)", m.schema_version));
        }
        Ok(m)
    }

    /// Check the Wasm artifact layout: an OCI manifest, the Wasm config
    /// media type, exactly one `application/wasm` layer; grants, if any, in
    /// the [`GRANTS_ANNOTATION`] within [`MAX_GRANTS_BYTES`]. Returns the
    /// Wasm layer and the grants text.
    pub fn wasm_layer(&self) -> Result<(&Descriptor, Option<&str>), String> {
        if let Some(mt) = &self.media_type
            && mt != OCI_MANIFEST
        {
            return Err(format!(
                "manifest media type {mt:?}, expected {OCI_MANIFEST}"
            ));
        }
        if self.config.media_type != WASM_CONFIG {
            return Err(format!(
                "config media type {:?}, expected {WASM_CONFIG} (not a Wasm artifact)",
                self.config.media_type
            ));
        }
        let layer = match self.layers.as_slice() {
            [one] if one.media_type == WASM_LAYER => one,
            [one] => {
                return Err(format!(
                    "layer media type {:?}, expected {WASM_LAYER}",
                    one.media_type
                ));
            }
            many => {
                return Err(format!(
                    "{} layers, expected exactly one {WASM_LAYER} layer",
                    many.len()
                ));
            }
        };
        let grants = self.annotations.get(GRANTS_ANNOTATION).map(String::as_str);
        if let Some(g) = grants
            && g.len() > MAX_GRANTS_BYTES
        {
            return Err(format!(
                "grants annotation of {} bytes (at most {MAX_GRANTS_BYTES})",
                g.len()
            ));
        }
        Ok((layer, grants))
    }
}

/// The Wasm OCI artifact config (`application/vnd.wasm.config.v0+json`).
///
/// No `created` time is written, so pushing the same script and grants
/// twice gives the same manifest digest, and a polling service sees no
/// change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    /// Always `wasm`.
    pub architecture: String,
    /// `wasip2` for a component, `wasip1` for a core module.
    pub os: String,
    /// The layer digests (makes each config, and so each image ID, unique).
    pub layer_digests: Vec<Digest>,
    /// A component's imports and exports (required when `os` is `wasip2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentInfo>,
}

/// The top-level imports and exports of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentInfo {
    /// Exported names (e.g. `claimscript:claims/run@0.1.0`).
    pub exports: Vec<String>,
    /// Imported names (e.g. `wasi:io/streams@0.2.0`).
    pub imports: Vec<String>,
}

impl WasmConfig {
    /// The config for `wasm`: a component's top-level imports and exports
    /// are read from its binary. Fails when `wasm` is not a Wasm binary.
    pub fn for_wasm(wasm: &[u8]) -> Result<WasmConfig, String> {
        use wasmparser::{Parser, Payload};
        let layer = Digest::of(wasm);
        if !wasmparser::Parser::is_component(wasm) {
            if wasmparser::Parser::is_core_wasm(wasm) {
                return Ok(WasmConfig {
                    architecture: "wasm".into(),
                    os: "wasip1".into(),
                    layer_digests: vec![layer],
                    component: None,
                });
            }
            return Err("not a WebAssembly binary (no \\0asm header)".into());
        }
        let mut info = ComponentInfo {
            exports: Vec::new(),
            imports: Vec::new(),
        };
        let mut depth = 0usize;
        for payload in Parser::new(0).parse_all(wasm) {
            let payload = payload.map_err(|e| format!("invalid component: {e}"))?;
            match payload {
                Payload::Version { .. } => depth += 1,
                Payload::End(_) => depth = depth.saturating_sub(1),
                Payload::ComponentImportSection(reader) if depth == 1 => {
                    for import in reader {
                        let import = import.map_err(|e| format!("invalid component: {e}"))?;
                        info.imports.push(import.name.0.to_string());
                    }
                }
                Payload::ComponentExportSection(reader) if depth == 1 => {
                    for export in reader {
                        let export = export.map_err(|e| format!("invalid component: {e}"))?;
                        info.exports.push(export.name.0.to_string());
                    }
                }
                _ => {}
            }
        }
        Ok(WasmConfig {
            architecture: "wasm".into(),
            os: "wasip2".into(),
            layer_digests: vec![layer],
            component: Some(info),
        })
    }

    /// The JSON bytes that are pushed.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}
