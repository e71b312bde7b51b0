//! A registry with htpasswd auth: credentials from a Docker config file,
//! refused without or with wrong ones.

use claimscript_oci::{Client, ClientConfig, CredentialSource, Credentials, Error};

use crate::{component, reference, runtime};

fn client_with(source: CredentialSource) -> Client {
    Client::new(
        ClientConfig::default()
            .with_plain_http(true)
            .with_credentials(source),
    )
    .expect("client")
}

#[test]
fn docker_config_credentials_used_and_wrong_ones_refused() {
    let hash = bcrypt::hash("s3cret", 4).expect("bcrypt");
    let reg = crate::TestRegistry::start_with_htpasswd(&format!("ci:{hash}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime();
    let r = reference(&reg, "team/login:v1");
    let wasm = component("auth");

    let e = rt
        .block_on(client_with(CredentialSource::Anonymous).push(&r, &wasm, None))
        .expect_err("must fail");
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    assert!(e.to_string().contains("credentials required"), "{e}");

    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("config.json");
    // base64("ci:s3cret")
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"other.example":{{"auth":"eDp5"}},"{}":{{"auth":"Y2k6czNjcmV0"}}}}}}"#,
            reg.registry()
        ),
    )
    .expect("write");
    let c = client_with(CredentialSource::DockerConfig(config.clone()));
    let pushed = rt
        .block_on(c.push(&r, &wasm, None))
        .expect("push with docker config");
    let pulled = rt.block_on(c.pull(&r)).expect("pull with docker config");
    assert_eq!(pulled.wasm, wasm);
    assert_eq!(pulled.digest, pushed.digest);

    let wrong = client_with(CredentialSource::Fixed(Credentials {
        username: "ci".into(),
        password: "nope".into(),
    }));
    let e = rt.block_on(wrong.pull(&r)).expect_err("must fail");
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    assert!(e.to_string().contains("refused the credentials"), "{e}");

    std::fs::write(&config, "{\"auths\": [").expect("write");
    let e = rt
        .block_on(client_with(CredentialSource::DockerConfig(config.clone())).pull(&r))
        .expect_err("must fail");
    assert!(matches!(e, Error::Credentials { .. }), "{e}");
    assert!(e.to_string().contains("config.json"), "{e}");
}
