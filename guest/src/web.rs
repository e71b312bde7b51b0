//! The Rust halves of the web platform globals (`prelude/web.js`): URL
//! parsing (the `url` crate implements the WHATWG URL standard), form
//! encoding, UTF-8, base64, digests and HMAC. Each is a plain function the
//! prelude calls through the `native` object.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use javy::quickjs::{
    ArrayBuffer, Coerced, Ctx, Error as JsError, IntoJs, Object, Result as JsResult, Value,
};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use url::{Url, quirks};

use crate::natives::{refuse_at_load, throw_type_error};

/// Add the web natives to `natives`.
pub(crate) fn register<'js>(cx: &Ctx<'js>, natives: &Object<'js>) -> JsResult<()> {
    use javy::quickjs::Function;
    natives.set("utf8Decode", Function::new(cx.clone(), utf8_decode)?)?;
    natives.set("jsonParse", Function::new(cx.clone(), json_parse)?)?;
    natives.set("headerName", Function::new(cx.clone(), header_name)?)?;
    natives.set("headerValue", Function::new(cx.clone(), header_value)?)?;
    natives.set("headerRecord", Function::new(cx.clone(), header_record)?)?;
    natives.set("fetchUrl", Function::new(cx.clone(), fetch_url)?)?;
    natives.set("base64Encode", Function::new(cx.clone(), base64_encode)?)?;
    natives.set("base64Decode", Function::new(cx.clone(), base64_decode)?)?;
    natives.set("urlParse", Function::new(cx.clone(), url_parse)?)?;
    natives.set("urlSet", Function::new(cx.clone(), url_set)?)?;
    natives.set("formParse", Function::new(cx.clone(), form_parse)?)?;
    natives.set("formSerialize", Function::new(cx.clone(), form_serialize)?)?;
    natives.set("randomBytes", Function::new(cx.clone(), random_bytes)?)?;
    natives.set("digest", Function::new(cx.clone(), digest)?)?;
    natives.set("hmac", Function::new(cx.clone(), hmac)?)?;
    natives.set(
        "timingSafeEqual",
        Function::new(cx.clone(), timing_safe_equal)?,
    )?;
    Ok(())
}

fn bytes<'a>(buffer: &'a ArrayBuffer<'_>) -> &'a [u8] {
    buffer.as_bytes().unwrap_or_default()
}

/// WHATWG UTF-8 decode: invalid sequences become U+FFFD, or with `fatal`
/// throw a TypeError.
fn utf8_decode<'js>(
    cx: Ctx<'js>,
    buffer: ArrayBuffer<'js>,
    fatal: bool,
) -> JsResult<javy::quickjs::String<'js>> {
    let data = bytes(&buffer);
    if crate::strings::is_ascii(data) {
        // ASCII is valid UTF-8 with nothing to replace: made straight
        // from the buffer (Rust's UTF-8 check costs tens of fuel a byte).
        return javy::quickjs::String::from_str(cx, crate::strings::utf8(data).unwrap_or_default());
    }
    if fatal {
        let text = std::str::from_utf8(data).map_err(|e| {
            throw_type_error(&cx, &format!("The encoded data was not valid UTF-8 ({e})"))
        })?;
        return javy::quickjs::String::from_str(cx, text);
    }
    javy::quickjs::String::from_str(cx, &String::from_utf8_lossy(data))
}

/// `Response.json()`'s parse of a body: UTF-8 decode (a leading BOM
/// dropped, invalid sequences as U+FFFD) and `JSON.parse`, in one pass over
/// the bytes through the runtime's JSON builder instead of a JS string and
/// QuickJS's tokenizer. `[value]`, or `null` when the builder declines (the
/// text is not JSON, or has an escaped lone surrogate): the caller then asks
/// `JSON.parse` for its result or its error.
fn json_parse<'js>(cx: Ctx<'js>, buffer: ArrayBuffer<'js>) -> JsResult<Value<'js>> {
    let data = bytes(&buffer);
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let decoded = match crate::strings::utf8(data) {
        Some(text) => std::borrow::Cow::Borrowed(text),
        None => String::from_utf8_lossy(data),
    };
    match crate::json::parse_strict(&cx, decoded.as_bytes()) {
        Ok(value) => {
            let array = javy::quickjs::Array::new(cx.clone())?;
            array.set(0, value)?;
            Ok(array.into_value())
        }
        Err(_) => Ok(Value::new_null(cx)),
    }
}

/// A header name (already a string) checked as an HTTP token and
/// lower-cased, or a TypeError as `Headers` throws it.
fn header_name<'js>(cx: Ctx<'js>, name: javy::quickjs::String<'js>) -> JsResult<String> {
    let name = crate::natives::usv_string(&name)?;
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !token {
        return Err(throw_type_error(
            &cx,
            &format!("Invalid header name: '{name}'"),
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// A header value (already a string): a ByteString (no character above
/// U+00FF), stripped of surrounding HTTP whitespace, without NUL, CR or LF;
/// or a TypeError as `Headers` throws it.
fn header_value<'js>(cx: Ctx<'js>, value: javy::quickjs::String<'js>) -> JsResult<String> {
    // A lone surrogate becomes U+FFFD, which is refused like any character
    // above U+00FF.
    let value = crate::natives::usv_string(&value)?;
    if value.chars().any(|c| u32::from(c) > 0xff) {
        return Err(throw_type_error(
            &cx,
            "Invalid header value: not a ByteString",
        ));
    }
    let value = value.trim_matches(['\t', '\n', '\r', ' ']);
    if value.contains(['\0', '\r', '\n']) {
        return Err(throw_type_error(&cx, "Invalid header value: NUL, CR or LF"));
    }
    Ok(value.to_string())
}

/// The header list of a record (`{ name: value }`) as `new Headers(record)`
/// makes it: for each own enumerable string key, in `Object.keys` order,
/// the name checked, then the value read, converted to a string and
/// checked; a TypeError as `Headers` throws it. One call instead of two
/// per header and the loop in JavaScript.
fn header_record<'js>(cx: Ctx<'js>, record: Object<'js>) -> JsResult<Vec<Vec<String>>> {
    let mut list = Vec::new();
    for key in record.keys::<javy::quickjs::String<'js>>() {
        let key = key?;
        let name = header_name(cx.clone(), key.clone())?;
        let value: Value<'js> = record.get(key)?;
        let Coerced(value) = value.get::<Coerced<javy::quickjs::String<'js>>>()?;
        list.push(vec![name, header_value(cx.clone(), value)?]);
    }
    Ok(list)
}

/// The `href` of an absolute URL (already a string) for `fetch()` and
/// `Request`, what `new URL(input).href` gives without making a URL object;
/// null when it is not an absolute URL, undefined when it carries
/// credentials.
fn fetch_url<'js>(cx: Ctx<'js>, input: javy::quickjs::String<'js>) -> JsResult<Value<'js>> {
    let input = crate::natives::usv_string(&input)?;
    match Url::parse(&input) {
        Ok(url) if url.username().is_empty() && url.password().is_none() => {
            quirks::href(&url).into_js(&cx)
        }
        Ok(_) => Ok(Value::new_undefined(cx)),
        Err(_) => Ok(Value::new_null(cx)),
    }
}

fn base64_encode(buffer: ArrayBuffer<'_>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes(&buffer))
}

/// WHATWG "forgiving-base64 decode": ASCII whitespace is ignored, padding is
/// optional but must be right when present, leftover bits are discarded.
fn base64_decode<'js>(cx: Ctx<'js>, text: String) -> JsResult<Value<'js>> {
    let mut data: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' '))
        .collect();
    if data.len() % 4 == 0 {
        for _ in 0..2 {
            if data.last() == Some(&b'=') {
                data.pop();
            }
        }
    }
    if data.len() % 4 == 1
        || !data
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
    {
        return Ok(Value::new_null(cx));
    }
    const FORGIVING: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    match FORGIVING.decode(&data) {
        Ok(decoded) => ArrayBuffer::new(cx.clone(), decoded)?.into_js(&cx),
        Err(_) => Ok(Value::new_null(cx)),
    }
}

/// The URL's components in the order the prelude expects.
fn components(url: &Url) -> Vec<String> {
    vec![
        quirks::href(url).to_string(),
        quirks::origin(url),
        quirks::protocol(url).to_string(),
        quirks::username(url).to_string(),
        quirks::password(url).to_string(),
        quirks::host(url).to_string(),
        quirks::hostname(url).to_string(),
        quirks::port(url).to_string(),
        quirks::pathname(url).to_string(),
        quirks::search(url).to_string(),
        quirks::hash(url).to_string(),
    ]
}

/// `value`, or null (the prelude tests for null, not undefined).
fn or_null<'js, T: IntoJs<'js>>(cx: &Ctx<'js>, value: Option<T>) -> JsResult<Value<'js>> {
    match value {
        Some(value) => value.into_js(cx),
        None => Ok(Value::new_null(cx.clone())),
    }
}

/// The URL's components, or null when it does not parse.
fn url_parse<'js>(cx: Ctx<'js>, input: String, base: Option<String>) -> JsResult<Value<'js>> {
    let parse = || {
        let base = match base {
            Some(base) => Some(Url::parse(&base).ok()?),
            None => None,
        };
        let url = Url::options().base_url(base.as_ref()).parse(&input).ok()?;
        Some(components(&url))
    };
    or_null(&cx, parse())
}

/// Apply one of URL's setters; a setter given a value it cannot use leaves
/// the URL as it was, except `href`, which then fails.
fn url_set<'js>(cx: Ctx<'js>, href: String, setter: String, value: String) -> JsResult<Value<'js>> {
    or_null(&cx, apply_setter(&href, &setter, &value))
}

fn apply_setter(href: &str, setter: &str, value: &str) -> Option<Vec<String>> {
    let mut url = Url::parse(href).ok()?;
    match setter {
        "href" => quirks::set_href(&mut url, value).ok()?,
        "protocol" => drop(quirks::set_protocol(&mut url, value)),
        "username" => drop(quirks::set_username(&mut url, value)),
        "password" => drop(quirks::set_password(&mut url, value)),
        "host" => drop(quirks::set_host(&mut url, value)),
        "hostname" => drop(quirks::set_hostname(&mut url, value)),
        "port" => drop(quirks::set_port(&mut url, value)),
        "pathname" => quirks::set_pathname(&mut url, value),
        "search" => quirks::set_search(&mut url, value),
        "hash" => quirks::set_hash(&mut url, value),
        _ => return None,
    }
    Some(components(&url))
}

fn form_parse(text: String) -> Vec<Vec<String>> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| vec![k.into_owned(), v.into_owned()])
        .collect()
}

fn form_serialize(pairs: Vec<Vec<String>>) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for pair in &pairs {
        if let [name, value] = pair.as_slice() {
            serializer.append_pair(name, value);
        }
    }
    serializer.finish()
}

/// Bytes from the host's CSPRNG. Refused in top-level code: the snapshot
/// would give every run the same bytes.
fn random_bytes<'js>(cx: Ctx<'js>, len: u32) -> JsResult<ArrayBuffer<'js>> {
    refuse_at_load(&cx, "crypto random values")?;
    let bytes = crate::claimscript::script::host::random_bytes(len);
    ArrayBuffer::new(cx, bytes)
}

fn unsupported_algorithm(cx: &Ctx<'_>, alg: &str) -> JsError {
    throw_type_error(cx, &format!("Unrecognized algorithm name: {alg}"))
}

fn digest<'js>(cx: Ctx<'js>, alg: String, data: ArrayBuffer<'js>) -> JsResult<ArrayBuffer<'js>> {
    let data = bytes(&data);
    let out = match alg.as_str() {
        "SHA-1" => Sha1::digest(data).to_vec(),
        "SHA-256" => Sha256::digest(data).to_vec(),
        "SHA-384" => Sha384::digest(data).to_vec(),
        "SHA-512" => Sha512::digest(data).to_vec(),
        other => return Err(unsupported_algorithm(&cx, other)),
    };
    ArrayBuffer::new(cx, out)
}

fn hmac<'js>(
    cx: Ctx<'js>,
    alg: String,
    key: ArrayBuffer<'js>,
    data: ArrayBuffer<'js>,
) -> JsResult<ArrayBuffer<'js>> {
    // HMAC takes keys of any length, so `new_from_slice` does not fail; if
    // it ever did, the call throws rather than sign with another key.
    fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).ok()?;
        mac.update(data);
        Some(mac.finalize().into_bytes().to_vec())
    }
    let (key, data) = (bytes(&key), bytes(&data));
    let out = match alg.as_str() {
        "SHA-1" => mac::<Hmac<Sha1>>(key, data),
        "SHA-256" => mac::<Hmac<Sha256>>(key, data),
        "SHA-384" => mac::<Hmac<Sha384>>(key, data),
        "SHA-512" => mac::<Hmac<Sha512>>(key, data),
        other => return Err(unsupported_algorithm(&cx, other)),
    };
    let Some(out) = out else {
        return Err(crate::natives::throw_type_error(
            &cx,
            "HMAC: the key was refused",
        ));
    };
    ArrayBuffer::new(cx, out)
}

/// Compare in time that depends only on the lengths.
fn timing_safe_equal(a: ArrayBuffer<'_>, b: ArrayBuffer<'_>) -> bool {
    let (a, b) = (bytes(&a), bytes(&b));
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
