//! What templates render to: the syntax table, against a realistic root.

use serde_json::{Value, json};

use crate::{fixture, one, profile, template};

#[test]
fn the_example_template_renders_against_a_loginradius_profile() {
    let claims = template(&fixture("loginradius.json")).render(&profile());
    assert_eq!(
        Value::Object(claims),
        json!({
            "email": "ada@example.com",
            "full_name": "Ada Lovelace",
            "country": "GB",
            "plan": "pro",
            "metadata": { "plan": "pro", "seats": 25, "beta": false, "tags": ["a", "b"] },
            "account_type": "enterprise"
        })
    );
}

#[test]
fn the_example_template_falls_back_when_the_profile_is_sparse() {
    let root = json!({ "FirstName": "Grace", "user": {} });
    let claims = template(&fixture("loginradius.json")).render(&root);
    assert_eq!(
        Value::Object(claims),
        json!({
            "email": null,
            "full_name": "Grace ",
            "country": null,
            "plan": "free",
            "metadata": null,
            "account_type": "enterprise"
        })
    );
}

#[test]
fn keys_keep_template_order() {
    let claims = template(&fixture("loginradius.json")).render(&profile());
    let keys: Vec<&str> = claims.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "email",
            "full_name",
            "country",
            "plan",
            "metadata",
            "account_type"
        ]
    );
}

#[test]
fn dot_paths_and_array_indexes() {
    let root = profile();
    assert_eq!(one(r#""{{ user.metadata.plan }}""#, &root), json!("pro"));
    assert_eq!(
        one(r#""{{ Email.0.Value }}""#, &root),
        json!("ada@example.com")
    );
    assert_eq!(one(r#""{{ Email.1.Type }}""#, &root), json!("Secondary"));
    assert_eq!(one(r#""{{ user.metadata.tags.1 }}""#, &root), json!("b"));
    assert_eq!(one(r#""{{ Roles }}""#, &root), json!(["admin", "billing"]));
}

#[test]
fn numeric_segments_on_objects_look_up_keys() {
    let root =
        json!({ "codes": { "0": "zero", "01": "zero-one", "7": "seven" }, "list": ["a", "b"] });
    assert_eq!(one(r#""{{ codes.0 }}""#, &root), json!("zero"));
    assert_eq!(one(r#""{{ codes.7 }}""#, &root), json!("seven"));
    assert_eq!(one(r#""{{ codes.01 }}""#, &root), json!("zero-one"));
    // On an array only a canonical index is one: `01` is not 1 (as
    // `list["01"]` is not `list[1]` in JavaScript).
    assert_eq!(one(r#""{{ list.1 }}""#, &root), json!("b"));
    assert_eq!(one(r#""{{ list.01 }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ list.00 || 'none' }}""#, &root), json!("none"));
    // A name on an array is missing.
    assert_eq!(one(r#""{{ list.length }}""#, &root), Value::Null);
    // An index past the end, or too big for any array, is missing.
    assert_eq!(one(r#""{{ list.2 }}""#, &root), Value::Null);
    assert_eq!(
        one(r#""{{ list.99999999999999999999999999 }}""#, &root),
        Value::Null
    );
}

#[test]
fn segment_names_may_use_dollar_underscore_and_dash() {
    let root = json!({ "$id": 1, "_x": { "first-name": "Ada", "a-": 2, "b$_9": 3 } });
    assert_eq!(one(r#""{{ $id }}""#, &root), json!(1));
    assert_eq!(one(r#""{{ _x.first-name }}""#, &root), json!("Ada"));
    assert_eq!(one(r#""{{ _x.a- }}""#, &root), json!(2));
    assert_eq!(one(r#""{{ _x.b$_9 }}""#, &root), json!(3));
}

#[test]
fn whitespace_around_tokens_is_allowed() {
    let root = profile();
    assert_eq!(one(r#""{{FirstName}}""#, &root), json!("Ada"));
    assert_eq!(one(r#""{{   FirstName   }}""#, &root), json!("Ada"));
    assert_eq!(one(r#""{{\tFirstName\n}}""#, &root), json!("Ada"));
    assert_eq!(one(r#""{{ NickName||FirstName }}""#, &root), json!("Ada"));
    assert_eq!(one(r#""{{ NickName \n ||\r\n 'x' }}""#, &root), json!("x"));
}

#[test]
fn missing_paths_give_null_or_the_fallback() {
    let root = profile();
    assert_eq!(one(r#""{{ Nope }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ user.nope.deeper }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ FirstName.length }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ LoginCount.0 }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ Email.5.Value }}""#, &root), Value::Null);
    assert_eq!(
        one(r#""{{ Nope || 'fallback' }}""#, &root),
        json!("fallback")
    );
    assert_eq!(
        one(r#""{{ Nope || user.nope || Country.Name }}""#, &root),
        json!("United Kingdom")
    );
    // A root that is not an object has no keys.
    assert_eq!(one(r#""{{ a.b || 'x' }}""#, &json!([1, 2])), json!("x"));
    assert_eq!(one(r#""{{ a }}""#, &Value::Null), Value::Null);
}

#[test]
fn fallbacks_skip_missing_null_and_empty_string_only() {
    let root = profile();
    // NickName is "", MiddleName is null.
    assert_eq!(one(r#""{{ NickName || FirstName }}""#, &root), json!("Ada"));
    assert_eq!(one(r#""{{ MiddleName || 'M' }}""#, &root), json!("M"));
    // 0, false and empty containers are real values.
    assert_eq!(one(r#""{{ Age || 99 }}""#, &root), json!(0));
    assert_eq!(one(r#""{{ IsDeleted || true }}""#, &root), json!(false));
    let root = json!({ "a": [], "o": {} });
    assert_eq!(one(r#""{{ a || 'x' }}""#, &root), json!([]));
    assert_eq!(one(r#""{{ o || 'x' }}""#, &root), json!({}));
}

#[test]
fn chains_evaluate_left_to_right() {
    let root = json!({ "a": "A", "b": "B" });
    assert_eq!(one(r#""{{ a || b }}""#, &root), json!("A"));
    assert_eq!(one(r#""{{ b || a }}""#, &root), json!("B"));
    assert_eq!(one(r#""{{ x || b || a }}""#, &root), json!("B"));
    assert_eq!(one(r#""{{ 'lit' || a }}""#, &root), json!("lit"));
}

#[test]
fn when_every_term_is_skipped_the_last_one_counts() {
    let root = profile();
    assert_eq!(one(r#""{{ Nope || Other }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ Nope || MiddleName }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ Nope || NickName }}""#, &root), json!(""));
    assert_eq!(one(r#""{{ Nope || '' }}""#, &root), json!(""));
    assert_eq!(one(r#""{{ NickName || Nope }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ NickName }}""#, &root), json!(""));
    assert_eq!(one(r#""{{ MiddleName }}""#, &root), Value::Null);
}

#[test]
fn literal_terms() {
    let root = json!({});
    assert_eq!(one(r#""{{ 'single' }}""#, &root), json!("single"));
    assert_eq!(one(r#""{{ \"double\" }}""#, &root), json!("double"));
    assert_eq!(one(r#""{{ 42 }}""#, &root), json!(42));
    assert_eq!(one(r#""{{ -1.5 }}""#, &root), json!(-1.5));
    assert_eq!(one(r#""{{ 0 }}""#, &root), json!(0));
    assert_eq!(one(r#""{{ 2e3 }}""#, &root), json!(2000.0));
    assert_eq!(one(r#""{{ 1E-2 }}""#, &root), json!(0.01));
    assert_eq!(one(r#""{{ true }}""#, &root), json!(true));
    assert_eq!(one(r#""{{ false }}""#, &root), json!(false));
    assert_eq!(one(r#""{{ null }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ x || null }}""#, &root), Value::Null);
    assert_eq!(one(r#""{{ '' }}""#, &root), json!(""));
    // `true.x` is a path into a key named "true".
    assert_eq!(
        one(r#""{{ true.x }}""#, &json!({ "true": { "x": 1 } })),
        json!(1)
    );
}

#[test]
fn literal_escapes() {
    let root = json!({});
    // In the JSON text a backslash is itself written \\.
    assert_eq!(one(r#""{{ 'it\\'s' }}""#, &root), json!("it's"));
    assert_eq!(
        one(r#""{{ \"say \\\"hi\\\"\" }}""#, &root),
        json!("say \"hi\"")
    );
    assert_eq!(one(r#""{{ 'a\\\\b' }}""#, &root), json!("a\\b"));
    assert_eq!(
        one(r#""{{ 'line\\nbreak\\ttab' }}""#, &root),
        json!("line\nbreak\ttab")
    );
    assert_eq!(one(r#""{{ '\\u00e9t\\u00E9' }}""#, &root), json!("été"));
    assert_eq!(one(r#""{{ '\\ud83d\\ude00' }}""#, &root), json!("😀"));
    // The other quote needs no escape; `}}` and `||` in a literal are text.
    assert_eq!(one(r#""{{ 'say \"hi\"' }}""#, &root), json!("say \"hi\""));
    assert_eq!(one(r#""{{ \"it's\" }}""#, &root), json!("it's"));
    assert_eq!(one(r#""{{ '}} || {{' }}""#, &root), json!("}} || {{"));
}

#[test]
fn literal_braces() {
    let root = json!({ "name": "Ada" });
    assert_eq!(one(r#""{{ '{{' }}""#, &root), json!("{{"));
    assert_eq!(
        one(r#""{{ '{{' }} name }} is {{ name }}""#, &root),
        json!("{{ name }} is Ada")
    );
    assert_eq!(one(r#""a }} b""#, &root), json!("a }} b"));
    assert_eq!(one(r#""}}{{ name }}}}""#, &root), json!("}}Ada}}"));
    assert_eq!(one(r#""{ name }""#, &root), json!("{ name }"));
    assert_eq!(one(r#""{x{{ name }}""#, &root), json!("{xAda"));
}

#[test]
fn a_whole_string_placeholder_inserts_the_raw_value() {
    let root = profile();
    assert_eq!(
        one(r#""{{ Country }}""#, &root),
        json!({ "Code": "GB", "Name": "United Kingdom" })
    );
    assert_eq!(one(r#""{{ Roles }}""#, &root), json!(["admin", "billing"]));
    assert_eq!(one(r#""{{ LoginCount }}""#, &root), json!(42));
    assert_eq!(one(r#""{{ EmailVerified }}""#, &root), json!(true));
    assert_eq!(one(r#""{{ FirstName }}""#, &root), json!("Ada"));
    assert_eq!(one(r#""{{ Missing }}""#, &root), Value::Null);
}

#[test]
fn whitespace_outside_the_braces_makes_a_string() {
    let root = profile();
    assert_eq!(one(r#"" {{ LoginCount }}""#, &root), json!(" 42"));
    assert_eq!(one(r#""{{ LoginCount }} ""#, &root), json!("42 "));
    assert_eq!(
        one(r#"" {{ Country }} ""#, &root),
        json!(r#" {"Code":"GB","Name":"United Kingdom"} "#)
    );
    assert_eq!(one(r#""{{ Missing }}\n""#, &root), json!("\n"));
}

#[test]
fn concatenation_renders_each_kind_as_text() {
    let root = json!({
        "s": "text", "n": 3, "f": 2.5, "neg": -7, "big": 1e300, "t": true, "no": false,
        "z": null, "o": { "a": 1, "b": [true, null] }, "arr": [1, "two", { "x": "y" }], "e": ""
    });
    assert_eq!(one(r#""[{{ s }}]""#, &root), json!("[text]"));
    assert_eq!(
        one(r#""{{ n }}/{{ f }}/{{ neg }}/{{ big }}""#, &root),
        json!("3/2.5/-7/1e+300")
    );
    assert_eq!(one(r#""{{ t }},{{ no }}""#, &root), json!("true,false"));
    assert_eq!(
        one(r#""<{{ z }}><{{ missing }}><{{ e }}>""#, &root),
        json!("<><><>")
    );
    assert_eq!(
        one(r#""o={{ o }}""#, &root),
        json!(r#"o={"a":1,"b":[true,null]}"#)
    );
    assert_eq!(
        one(r#""arr={{ arr }}""#, &root),
        json!(r#"arr=[1,"two",{"x":"y"}]"#)
    );
    assert_eq!(one(r#""{{ n }}{{ s }}""#, &root), json!("3text"));
    assert_eq!(
        one(r#""{{ missing || 0 }} items""#, &root),
        json!("0 items")
    );
    assert_eq!(one(r#""{{ 1.0 }} {{ 10 }}""#, &root), json!("1.0 10"));
    // Two placeholders with nothing between them are still a string.
    assert_eq!(one(r#""{{ n }}{{ n }}""#, &root), json!("33"));
    assert_eq!(one(r#""{{ z }}{{ z }}""#, &root), json!(""));
}

#[test]
fn static_values_are_copied() {
    let claims = template(
        r#"{"n": 1, "f": -2.5e-3, "t": true, "no": false, "z": null, "s": "plain text", "e": "",
            "braces": "{ } }} {", "o": {}, "a": []}"#,
    )
    .render(&profile());
    assert_eq!(
        Value::Object(claims),
        json!({"n": 1, "f": -2.5e-3, "t": true, "no": false, "z": null, "s": "plain text", "e": "",
               "braces": "{ } }} {", "o": {}, "a": []})
    );
}

#[test]
fn keys_are_never_templated() {
    let claims = template(r#"{"{{ FirstName }}": "{{ FirstName }}", "a.b": 1}"#).render(&profile());
    assert_eq!(
        Value::Object(claims),
        json!({"{{ FirstName }}": "Ada", "a.b": 1})
    );
}

#[test]
fn nested_objects_and_arrays_are_templated() {
    let claims = template(&fixture("nested.json")).render(&profile());
    assert_eq!(
        Value::Object(claims),
        json!({
            "sub": "7d3e4c1b2a",
            "profile": {
                "name": { "given": "Ada", "family": "Lovelace" },
                "emails": ["ada@example.com", "countess@example.org", null],
                "static": [1, 2.5, true, null, "plain", { "deep": ["United Kingdom"] }]
            },
            "https://example.com/claims": {
                "roles": ["admin", "billing"],
                "summary": "Ada (42 logins, verified=true, roles=[\"admin\",\"billing\"])"
            },
            "empty_object": {},
            "empty_array": []
        })
    );
}

#[test]
fn json_escapes_in_the_template_text_are_decoded_first() {
    // \u007b\u007b is "{{" once the JSON string is decoded.
    let root = json!({ "name": "Ada" });
    assert_eq!(one(r#""\u007b\u007b name }}""#, &root), json!("Ada"));
    assert_eq!(
        one(r#""caf\u00e9 {{ name }} \ud83d\ude00""#, &root),
        json!("café Ada 😀")
    );
    assert_eq!(
        one(r#""tab\there {{ name }}""#, &root),
        json!("tab\there Ada")
    );
}

#[test]
fn unicode_keys_in_paths_are_not_names() {
    // Names are ASCII; a template can still reach such keys with a fallback
    // of its own, but not by path. This is the documented limit.
    let err = crate::rejected(r#"{"v": "{{ prénom }}"}"#);
    assert_eq!((err.line(), err.column()), (1, 13));
}

#[test]
fn render_is_repeatable_and_does_not_change_the_root() {
    let t = template(&fixture("loginradius.json"));
    let root = profile();
    let before = root.clone();
    let first = t.render(&root);
    let second = t.render(&root);
    assert_eq!(first, second);
    assert_eq!(root, before);
}

#[test]
fn an_empty_template_renders_an_empty_object() {
    assert!(template("{}").render(&profile()).is_empty());
    assert!(template(" \n{ } \n").render(&Value::Null).is_empty());
}

#[test]
fn rendering_within_a_budget_stops_at_it() {
    // 200 placeholders naming a 100 KB value: 20 MB rendered unbounded.
    let big = "x".repeat(100_000);
    let root = json!({ "big": big, "obj": { "s": big } });
    let entries: Vec<String> = (0..200)
        .map(|i| format!(r#""k{i}": "{{{{ big }}}}""#))
        .collect();
    let text = format!("{{{}}}", entries.join(", "));
    let t = template(&text);
    assert!(t.render_within(&root, 50_000).is_none());
    // Concatenated and whole objects alike.
    let t = template(r#"{"a": "pre {{ obj }} post", "b": "{{ obj }}"}"#);
    assert!(t.render_within(&root, 50_000).is_none());
    let rendered = t.render_within(&root, 1_000_000).expect("fits");
    assert_eq!(rendered, t.render(&root));
    // Within the budget: the same claims as render.
    let t = template(r#"{"a": "{{ big }}", "n": 1}"#);
    let small = json!({ "big": "y" });
    let rendered = t.render_within(&small, 100).expect("fits");
    assert_eq!(Value::Object(rendered), json!({ "a": "y", "n": 1 }));
    assert!(t.render_within(&small, 5).is_none());
}
