//! The parser against the seed's example bodies (as JSON and as form data), and every kind of
//! bad input against its error code.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Value, json};

use super::*;

const NOW_MS: i64 = 1_700_000_000_000;
const JSON: Option<&str> = Some("application/json");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// A fixture of `server/tests/data/inbound`, as JSON and as form data.
fn fixture(name: &str) -> (&'static str, &'static str) {
    macro_rules! both {
        ($name:literal) => {
            (
                include_str!(concat!("../../tests/data/inbound/", $name, ".json")),
                include_str!(concat!("../../tests/data/inbound/", $name, ".form")),
            )
        };
    }
    match name {
        "basic" => both!("basic"),
        "location" => both!("location"),
        "purchase" => both!("purchase"),
        "products" => both!("products"),
        "full" => both!("full"),
        _ => panic!("no fixture {name}"),
    }
}

/// Parses a fixture both ways, checks that both read the same, and returns them.
fn parse_fixture(name: &str) -> [Conversion; 2] {
    let (json_body, form_body) = fixture(name);
    let from_json = parse(JSON, json_body.as_bytes(), NOW_MS).expect("the JSON fixture parses");
    let from_form = parse(FORM, form_body.as_bytes(), NOW_MS).expect("the form fixture parses");
    assert_eq!(from_json.format, BodyFormat::Json);
    assert_eq!(from_form.format, BodyFormat::Form);
    assert_eq!(
        from_json.raw,
        serde_json::from_str::<Value>(json_body).expect("fixture is JSON"),
        "{name}: raw is the whole JSON payload"
    );
    let same_as_json = Conversion {
        format: BodyFormat::Json,
        raw: from_json.raw.clone(),
        ..from_form.clone()
    };
    assert_eq!(
        same_as_json, from_json,
        "{name}: form and JSON read differently"
    );
    [from_json, from_form]
}

fn json_body(value: Value) -> Result<Conversion, InboundError> {
    parse(JSON, value.to_string().as_bytes(), NOW_MS)
}

fn form_body(pairs: &[(&str, &str)]) -> Result<Conversion, InboundError> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    parse(FORM, body.as_bytes(), NOW_MS)
}

fn amount(text: &str) -> Option<Amount> {
    Some(Amount {
        text: text.to_owned(),
        value: text.parse().expect("test amount"),
    })
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

#[test]
fn seed_basic_parameters() {
    for conversion in parse_fixture("basic") {
        assert_eq!(conversion.email, "test@gmail.com");
        assert_eq!(conversion.occurred_at_ms, 1_528_611_279_398);
        assert_eq!(
            conversion.ip,
            Some(IpAddr::V4(Ipv4Addr::new(141, 92, 55, 102)))
        );
        assert_eq!(conversion.first_name, "John");
        assert_eq!(conversion.last_name, "Smith");
        assert_eq!(conversion.guid, some("id"));
        assert_eq!(conversion.location, Location::default());
        assert_eq!(conversion.purchase, None);
        assert_eq!(conversion.products, []);
        assert_eq!(conversion.shown_product, None);
        assert_eq!(conversion.display_name(), "John S.");
    }
}

#[test]
fn seed_location_parameters() {
    for conversion in parse_fixture("location") {
        assert_eq!(conversion.email, "test@gmail.com");
        assert_eq!(
            conversion.occurred_at_ms, NOW_MS,
            "no timestamp: the time it came"
        );
        assert_eq!(
            conversion.location,
            Location {
                city: some("Miami"),
                country: some("United States"),
                country_code: some("US"),
                state: some("Florida"),
                state_code: some("FL"),
            }
        );
        assert_eq!(conversion.display_name(), "Someone");
    }
}

#[test]
fn seed_purchase_parameters() {
    for conversion in parse_fixture("purchase") {
        assert_eq!(
            conversion.purchase,
            Some(Purchase {
                product_name: some("Sneakers"),
                product_link: some("https://sneakers.com/sneakers"),
                product_image: some("https://sneakers.com/sneakers.jpg"),
                total: amount("55"),
                currency: some("USD"),
            })
        );
        assert_eq!(conversion.products, []);
        assert_eq!(
            conversion.shown_product,
            Some(ShownProduct {
                name: "Sneakers".to_owned(),
                link: some("https://sneakers.com/sneakers"),
                image: some("https://sneakers.com/sneakers.jpg"),
                products_index: None,
            })
        );
    }
}

#[test]
fn seed_multiple_products_parameters() {
    for conversion in parse_fixture("products") {
        assert_eq!(conversion.purchase, None);
        assert_eq!(
            conversion.products,
            [Product {
                id: some("123"),
                name: "T-Shirt".to_owned(),
                link: "https://mystore.com/t-shirt".to_owned(),
                image: some("https://mystore.com/images/t-shirt.png"),
                price: amount("55"),
                quantity: Some(2),
            }]
        );
        assert_eq!(
            conversion.shown_product,
            Some(ShownProduct {
                name: "T-Shirt".to_owned(),
                link: some("https://mystore.com/t-shirt"),
                image: some("https://mystore.com/images/t-shirt.png"),
                products_index: Some(0),
            })
        );
    }
}

#[test]
fn seed_parameters_all_together() {
    let [from_json, from_form] = parse_fixture("full");
    for conversion in [&from_json, &from_form] {
        assert_eq!(conversion.email, "test@gmail.com");
        assert_eq!(conversion.occurred_at_ms, 1_528_611_279_398);
        assert_eq!(conversion.location.state_code, some("FL"));
        let purchase = conversion.purchase.as_ref().expect("a purchase");
        assert_eq!(purchase.total, amount("85.5"));
        assert_eq!(purchase.product_name, None);
        assert_eq!(conversion.products.len(), 2);
        assert_eq!(conversion.products[1].id, some("hoodie-xl"));
        assert_eq!(conversion.products[1].image, None);
        assert_eq!(conversion.products[1].price, amount("34.5"));
        let shown = conversion.shown_product.as_ref().expect("a shown product");
        assert_eq!(
            (shown.name.as_str(), shown.products_index),
            ("Hoodie", Some(1))
        );
    }
    assert_eq!(from_form.raw["products"][1]["price"], json!("34.5"));
    assert_eq!(from_form.raw["timestamp"], json!("1528611279398"));
    assert_eq!(
        from_json.public(),
        PublicConversion {
            display_name: "John S.".to_owned(),
            first_name: "John".to_owned(),
            last_initial: "S".to_owned(),
            city: some("Miami"),
            state: some("Florida"),
            state_code: some("FL"),
            country: some("United States"),
            country_code: some("US"),
            product: Some(PublicProduct {
                name: "Hoodie".to_owned(),
                link: some("https://mystore.com/hoodie"),
                image: None,
            }),
            occurred_at_ms: 1_528_611_279_398,
        }
    );
}

#[test]
fn content_types() {
    let check = |content_type: &str, expected: Result<BodyFormat, &str>| {
        assert_eq!(
            BodyFormat::from_content_type(Some(content_type)).map_err(|error| error.code()),
            expected,
            "{content_type}"
        );
    };
    check("application/json", Ok(BodyFormat::Json));
    check("Application/JSON; charset=UTF-8", Ok(BodyFormat::Json));
    check("application/json;charset=\"utf-8\"", Ok(BodyFormat::Json));
    check("application/vnd.api+json", Ok(BodyFormat::Json));
    check("application/ld+json; profile=x", Ok(BodyFormat::Json));
    check("text/json", Ok(BodyFormat::Json));
    check("application/x-www-form-urlencoded", Ok(BodyFormat::Form));
    check(
        "application/x-www-form-urlencoded; charset=utf-8",
        Ok(BodyFormat::Form),
    );
    check(
        "application/json; charset=iso-8859-1",
        Err("unsupported_charset"),
    );
    check(
        "application/x-www-form-urlencoded; charset=windows-1252",
        Err("unsupported_charset"),
    );
    check("text/plain", Err("unsupported_media_type"));
    check(
        "multipart/form-data; boundary=x",
        Err("unsupported_media_type"),
    );
    check("application/xml", Err("unsupported_media_type"));
    check("json", Err("unsupported_media_type"));
    check("+json", Err("unsupported_media_type"));
    check("", Err("unsupported_media_type"));
    assert_eq!(
        BodyFormat::from_content_type(None).map_err(|error| error.code()),
        Err("unsupported_media_type")
    );
}

/// Every kind of bad input, with its code, the field it names, and its class.
#[test]
fn bad_input_has_its_own_code() {
    #[track_caller]
    fn check(content_type: Option<&str>, body: &str, code: &str, field: Option<&str>) {
        let error = parse(content_type, body.as_bytes(), NOW_MS).expect_err("the body is refused");
        assert_eq!(
            (error.code(), error.field().as_deref()),
            (code, field),
            "{body}: {error}"
        );
        let class = match code {
            "payload_too_large" => ErrorClass::TooLarge,
            "unsupported_media_type" | "unsupported_charset" => ErrorClass::UnsupportedMediaType,
            "content_type_mismatch" | "invalid_json" | "json_not_object" | "invalid_form" => {
                ErrorClass::Malformed
            }
            _ => ErrorClass::Invalid,
        };
        assert_eq!(error.class(), class, "{code}");
        assert!(
            error.to_string().ends_with('.'),
            "detail is a sentence: {error}"
        );
    }
    let email = r#""email": "joe@example.com""#;
    let with = |fields: &str| format!("{{{email}, {fields}}}");

    // The body as a whole.
    check(
        JSON,
        &" ".repeat(MAX_BODY_BYTES + 1),
        "payload_too_large",
        None,
    );
    check(
        None,
        r#"{"email": "joe@example.com"}"#,
        "unsupported_media_type",
        None,
    );
    check(
        Some("text/plain"),
        r#"{"email": "joe@example.com"}"#,
        "unsupported_media_type",
        None,
    );
    check(
        Some("application/json; charset=latin1"),
        "{}",
        "unsupported_charset",
        None,
    );
    check(
        JSON,
        "email=joe%40example.com&firstName=Joe",
        "content_type_mismatch",
        None,
    );
    check(JSON, "email=joe@example.com", "content_type_mismatch", None);
    check(
        FORM,
        r#"{"email": "joe@example.com"}"#,
        "content_type_mismatch",
        None,
    );
    check(
        FORM,
        r#"  [{"email": "joe@example.com"}]"#,
        "content_type_mismatch",
        None,
    );
    check(JSON, r#"{"email": "joe@example.com""#, "invalid_json", None);
    check(
        JSON,
        r#"{"email": "joe@example.com", // a comment
        }"#,
        "invalid_json",
        None,
    );
    check(JSON, "", "invalid_json", None);
    check(JSON, "{} {}", "invalid_json", None);
    check(JSON, "\u{1}", "invalid_json", None);
    check(
        JSON,
        r#"[{"email": "joe@example.com"}]"#,
        "json_not_object",
        None,
    );
    check(JSON, r#""joe@example.com""#, "json_not_object", None);
    check(JSON, "null", "json_not_object", None);
    check(
        FORM,
        "email=joe%40example.com&city=%FF",
        "invalid_form",
        None,
    );
    check(
        FORM,
        "email=joe%40example.com&a=1&a[b]=2",
        "invalid_form",
        None,
    );

    // Email.
    check(JSON, "{}", "email_required", Some("email"));
    check(FORM, "", "email_required", Some("email"));
    check(
        JSON,
        r#"{"email": "", "note": "no address here"}"#,
        "email_required",
        Some("email"),
    );
    check(
        JSON,
        r#"{"user": {"mail": "joe(at)example.com"}}"#,
        "email_required",
        Some("email"),
    );
    check(
        FORM,
        "firstName=Joe&email=+",
        "email_required",
        Some("email"),
    );
    check(JSON, r#"{"email": "joe"}"#, "invalid_email", Some("email"));
    check(FORM, "email=joe%40example", "invalid_email", Some("email"));
    check(
        JSON,
        r#"{"email": "joe@example", "other": "ann@example.com"}"#,
        "invalid_email",
        Some("email"),
    );
    check(JSON, r#"{"email": 5}"#, "invalid_field", Some("email"));

    // Timestamp, IP, names.
    check(
        JSON,
        &with(r#""timestamp": -1"#),
        "invalid_timestamp",
        Some("timestamp"),
    );
    check(
        JSON,
        &with(r#""timestamp": "soon""#),
        "invalid_timestamp",
        Some("timestamp"),
    );
    check(
        JSON,
        &with(r#""timestamp": true"#),
        "invalid_timestamp",
        Some("timestamp"),
    );
    check(
        JSON,
        &with(r#""timestamp": 1e300"#),
        "invalid_timestamp",
        Some("timestamp"),
    );
    check(
        FORM,
        "email=joe%40example.com&timestamp=2018-06-10",
        "invalid_timestamp",
        Some("timestamp"),
    );
    check(
        JSON,
        &with(r#""ip": "141.92.55""#),
        "invalid_ip",
        Some("ip"),
    );
    check(
        JSON,
        &with(r#""ip": "example.com""#),
        "invalid_ip",
        Some("ip"),
    );
    check(JSON, &with(r#""ip": 2370582374"#), "invalid_ip", Some("ip"));
    check(
        FORM,
        "email=joe%40example.com&ip=1.2.3.4.5",
        "invalid_ip",
        Some("ip"),
    );
    check(
        JSON,
        &with(r#""firstName": {"given": "Joe"}"#),
        "invalid_field",
        Some("firstName"),
    );
    check(
        JSON,
        &with(r#""city": 33101"#),
        "invalid_field",
        Some("city"),
    );
    check(JSON, &with(r#""guid": [1]"#), "invalid_field", Some("guid"));
    check(
        JSON,
        &with(&format!(r#""lastName": "{}""#, "x".repeat(201))),
        "field_too_long",
        Some("lastName"),
    );
    check(
        JSON,
        &with(&format!(r#""city": "{}""#, "x".repeat(501))),
        "field_too_long",
        Some("city"),
    );

    // Purchase.
    check(
        JSON,
        &with(r#""total": -5"#),
        "invalid_amount",
        Some("total"),
    );
    check(
        JSON,
        &with(r#""total": "$55""#),
        "invalid_amount",
        Some("total"),
    );
    check(
        FORM,
        "email=joe%40example.com&total=55%2C90",
        "invalid_amount",
        Some("total"),
    );
    check(
        JSON,
        &with(r#""total": "1e3""#),
        "invalid_amount",
        Some("total"),
    );
    check(
        JSON,
        &with(r#""productLink": "javascript:alert(1)""#),
        "invalid_url",
        Some("productLink"),
    );
    check(
        JSON,
        &with(r#""productLink": "/sneakers""#),
        "invalid_url",
        Some("productLink"),
    );
    check(
        JSON,
        &with(r#""productImage": "data:image/png;base64,AAAA""#),
        "invalid_url",
        Some("productImage"),
    );
    check(
        JSON,
        &with(r#""productImage": 7"#),
        "invalid_url",
        Some("productImage"),
    );

    // Products.
    let link = r#""link": "https://mystore.com/t-shirt""#;
    check(
        JSON,
        &with(r#""products": {"name": "T-Shirt"}"#),
        "invalid_products",
        Some("products"),
    );
    check(
        JSON,
        &with(r#""products": "T-Shirt""#),
        "invalid_products",
        Some("products"),
    );
    check(
        FORM,
        "email=joe%40example.com&products=T-Shirt",
        "invalid_products",
        Some("products"),
    );
    check(
        FORM,
        "email=joe%40example.com&products[name]=T-Shirt",
        "invalid_products",
        Some("products"),
    );
    check(
        JSON,
        &with(r#""products": ["T-Shirt"]"#),
        "invalid_product",
        Some("products[0]"),
    );
    check(
        JSON,
        &with(&format!(r#""products": [{{{link}}}]"#)),
        "invalid_product",
        Some("products[0].name"),
    );
    check(
        JSON,
        &with(&format!(
            r#""products": [{{"name": "A", {link}}}, {{"name": "B"}}]"#
        )),
        "invalid_product",
        Some("products[1].link"),
    );
    check(
        FORM,
        "email=joe%40example.com&products[0][name]=A&products[0][link]=https://a.com&products[1][link]=https://b.com",
        "invalid_product",
        Some("products[1].name"),
    );
    check(
        FORM,
        "email=joe%40example.com&products[][name]=A&products[][name]=B",
        "invalid_product",
        Some("products[0].link"),
    );
    check(
        JSON,
        &with(&format!(r#""products": [{{"name": "", {link}}}]"#)),
        "invalid_product",
        Some("products[0].name"),
    );
    check(
        JSON,
        &with(r#""products": [{"name": "A", "link": "ftp://a.com/x"}]"#),
        "invalid_url",
        Some("products[0].link"),
    );
    check(
        JSON,
        &with(&format!(
            r#""products": [{{"name": "A", {link}, "image": "x.png"}}]"#
        )),
        "invalid_url",
        Some("products[0].image"),
    );
    check(
        JSON,
        &with(&format!(
            r#""products": [{{"name": "A", {link}, "price": "cheap"}}]"#
        )),
        "invalid_amount",
        Some("products[0].price"),
    );
    check(
        JSON,
        &with(&format!(
            r#""products": [{{"name": "A", {link}, "quantity": 1.5}}]"#
        )),
        "invalid_field",
        Some("products[0].quantity"),
    );
    check(
        JSON,
        &with(&format!(
            r#""products": [{{"name": "A", {link}, "quantity": -1}}]"#
        )),
        "invalid_field",
        Some("products[0].quantity"),
    );
    check(
        JSON,
        &with(&format!(
            r#""products": [{{"name": "A", {link}, "id": {{}}}}]"#
        )),
        "invalid_field",
        Some("products[0].id"),
    );
}

#[test]
fn details_say_what_to_do() {
    let detail = |content_type: Option<&str>, body: &str| {
        parse(content_type, body.as_bytes(), NOW_MS)
            .expect_err("refused")
            .to_string()
    };
    assert_eq!(
        detail(None, "{}"),
        "Send the body as JSON (Content-Type: application/json) or as form data \
         (Content-Type: application/x-www-form-urlencoded); no Content-Type was given."
    );
    assert_eq!(
        detail(Some("text/plain"), "{}"),
        "Send the body as JSON (Content-Type: application/json) or as form data \
         (Content-Type: application/x-www-form-urlencoded); the Content-Type was \"text/plain\"."
    );
    assert_eq!(
        detail(JSON, "email=joe%40example.com"),
        "The Content-Type says JSON but the body is form data: send it with \
         Content-Type: application/x-www-form-urlencoded."
    );
    assert_eq!(
        detail(FORM, "{}"),
        "The Content-Type says form data but the body is JSON: send it with \
         Content-Type: application/json."
    );
    assert_eq!(
        detail(JSON, r#"{"email": "#),
        "The body is not valid JSON: EOF while parsing a value at line 1 column 10."
    );
    assert_eq!(
        detail(JSON, "[]"),
        "The JSON body must be an object of fields, not an array."
    );
    assert_eq!(
        detail(JSON, "{}"),
        "An email address is required: send it as `email`, or anywhere in the payload."
    );
    assert_eq!(
        detail(JSON, r#"{"email": "joe"}"#),
        "`email` must be an email address, like name@example.com."
    );
    assert_eq!(
        detail(JSON, r#"{"email": "joe@example.com", "timestamp": "soon"}"#),
        "`timestamp` must be a Unix time in seconds or milliseconds, like 1528611279 or \
         1528611279398."
    );
    assert_eq!(
        detail(
            JSON,
            r#"{"email": "joe@example.com", "products": [{"name": "A"}]}"#
        ),
        "`products[0]` has no `link`."
    );
    assert_eq!(
        detail(JSON, r#"{"email": "joe@example.com", "total": "$5"}"#),
        "`total` must be an amount of zero or more, like 55 or 55.90."
    );
}

#[test]
fn email_found_anywhere_in_the_payload() {
    let check = |value: Value, expected: &str| {
        let conversion = json_body(value.clone()).expect("the payload parses");
        assert_eq!(conversion.email, expected, "{value}");
    };
    check(
        json!({"event": "order.paid", "data": {"order": {"id": 7, "customer": {"contact": {"mail": "Deep@Example.COM"}}}}}),
        "Deep@example.com",
    );
    check(
        json!({"items": [{"sku": "x"}, {"buyer": "Ann Lee <ann@example.org>"}], "z": "zed@example.org"}),
        "ann@example.org",
    );
    check(
        json!({"nested": {"email": "nested@example.com"}, "email": "top@example.com"}),
        "top@example.com",
    );
    check(
        json!({"email": null, "customer": {"email": "nested@example.com"}}),
        "nested@example.com",
    );
    check(json!({"email": "  Top@Example.Com "}), "Top@example.com");
    // In document order, not in key order: a JSON map would sort `a` first.
    let conversion = parse(
        JSON,
        br#"{"b": {"x": "b@example.com"}, "a": "a@example.com"}"#,
        NOW_MS,
    )
    .expect("parses");
    assert_eq!(conversion.email, "b@example.com");

    let from_form = form_body(&[
        ("order[id]", "7"),
        ("order[customer][email]", "form@example.com"),
        ("other", "later@example.com"),
    ])
    .expect("parses");
    assert_eq!(from_form.email, "form@example.com");
}

#[test]
fn timestamps_in_seconds_or_milliseconds() {
    let check = |value: Value, expected: Result<i64, TimestampProblem>| {
        let result = json_body(json!({"email": "joe@example.com", "timestamp": value.clone()}));
        let got = result
            .map(|conversion| conversion.occurred_at_ms)
            .map_err(|error| match error {
                InboundError::InvalidTimestamp { problem } => problem,
                other => panic!("{value}: not a timestamp error: {other:?}"),
            });
        assert_eq!(got, expected, "{value}");
    };
    use TimestampProblem::*;
    check(json!(1_528_611_279_398_u64), Ok(1_528_611_279_398));
    check(json!(1_528_611_279), Ok(1_528_611_279_000));
    check(json!("1528611279398"), Ok(1_528_611_279_398));
    check(json!(" 1528611279 "), Ok(1_528_611_279_000));
    check(json!(1_528_611_279.398), Ok(1_528_611_279_398));
    check(json!("1528611279.5"), Ok(1_528_611_279_500));
    check(json!(1_528_611_279_398.6), Ok(1_528_611_279_399));
    check(json!(0), Ok(0));
    // The boundary: 10^11 and up are milliseconds, below are seconds.
    check(json!(99_999_999_999_u64), Ok(99_999_999_999_000));
    check(json!(100_000_000_000_u64), Ok(100_000_000_000));
    check(json!(MAX_TIMESTAMP_MS), Ok(MAX_TIMESTAMP_MS));
    check(json!(MAX_TIMESTAMP_MS + 1), Err(TooLate));
    check(json!(u64::MAX), Err(TooLate));
    check(json!("99999999999999999999999"), Err(TooLate));
    check(json!(1e300), Err(TooLate));
    check(json!(-1), Err(Negative));
    check(json!(-1.5), Err(Negative));
    check(json!("-1528611279"), Err(Negative));
    check(json!("1528611279x"), Err(NotANumber));
    check(json!("1.5e9"), Err(NotANumber));
    check(json!("2018-06-10T06:14:39Z"), Err(NotANumber));
    check(json!([1]), Err(NotANumber));
    check(json!(null), Ok(NOW_MS));
    check(json!(""), Ok(NOW_MS));

    let from_form = |value: &str| form_body(&[("email", "joe@example.com"), ("timestamp", value)]);
    assert_eq!(
        from_form("1528611279398").map(|c| c.occurred_at_ms),
        Ok(1_528_611_279_398)
    );
    assert_eq!(
        from_form("1528611279").map(|c| c.occurred_at_ms),
        Ok(1_528_611_279_000)
    );
    assert_eq!(from_form("").map(|c| c.occurred_at_ms), Ok(NOW_MS));
}

#[test]
fn location_filled_from_either_side() {
    let check = |pairs: &[(&str, &str)], expected: Location| {
        let mut with_email = vec![("email", "joe@example.com")];
        with_email.extend_from_slice(pairs);
        let conversion = form_body(&with_email).expect("parses");
        assert_eq!(conversion.location, expected, "{pairs:?}");
    };
    let us = |state: Option<&str>, state_code: Option<&str>| Location {
        city: None,
        country: some("United States"),
        country_code: some("US"),
        state: state.map(str::to_owned),
        state_code: state_code.map(str::to_owned),
    };
    check(&[("countryCode", "US")], us(None, None));
    check(&[("countryCode", "us")], us(None, None));
    check(&[("country", "United States")], us(None, None));
    check(
        &[("country", "USA")],
        Location {
            country: some("USA"),
            ..us(None, None)
        },
    );
    check(
        &[("country", "united states of america")],
        Location {
            country: some("united states of america"),
            ..us(None, None)
        },
    );
    check(
        &[("country", "UK")],
        Location {
            country: some("UK"),
            country_code: some("GB"),
            ..Location::default()
        },
    );
    check(
        &[("country", "Great Britain")],
        Location {
            country: some("Great Britain"),
            country_code: some("GB"),
            ..Location::default()
        },
    );
    check(
        &[("countryCode", "GB")],
        Location {
            country: some("United Kingdom"),
            country_code: some("GB"),
            ..Location::default()
        },
    );
    check(
        &[("countryCode", "de"), ("city", "Berlin")],
        Location {
            city: some("Berlin"),
            country: some("Germany"),
            country_code: some("DE"),
            ..Location::default()
        },
    );
    // A code sent as the country, and a name sent as the code.
    check(
        &[("country", "FR")],
        Location {
            country: some("FR"),
            country_code: some("FR"),
            ..Location::default()
        },
    );
    check(&[("countryCode", "USA")], us(None, None));
    // Both given and different: both kept as sent.
    check(
        &[("country", "America"), ("countryCode", "CA")],
        Location {
            country: some("America"),
            country_code: some("CA"),
            ..Location::default()
        },
    );
    // Unknown: kept, the other side left empty.
    check(
        &[("country", "Narnia")],
        Location {
            country: some("Narnia"),
            ..Location::default()
        },
    );
    check(
        &[("countryCode", "ZZ")],
        Location {
            country_code: some("ZZ"),
            ..Location::default()
        },
    );

    // States, US only.
    check(
        &[("countryCode", "US"), ("stateCode", "FL")],
        us(Some("Florida"), Some("FL")),
    );
    check(
        &[("countryCode", "US"), ("stateCode", "fl")],
        us(Some("Florida"), Some("FL")),
    );
    check(
        &[("countryCode", "US"), ("state", "Florida")],
        us(Some("Florida"), Some("FL")),
    );
    check(
        &[("countryCode", "US"), ("state", "new york")],
        us(Some("new york"), Some("NY")),
    );
    check(
        &[("country", "USA"), ("stateCode", "DC")],
        Location {
            country: some("USA"),
            ..us(Some("District of Columbia"), Some("DC"))
        },
    );
    check(
        &[("stateCode", "TX")],
        Location {
            state: some("Texas"),
            state_code: some("TX"),
            ..Location::default()
        },
    );
    check(
        &[("state", "Texas")],
        Location {
            state: some("Texas"),
            state_code: some("TX"),
            ..Location::default()
        },
    );
    check(
        &[("countryCode", "US"), ("state", "Ontario")],
        us(Some("Ontario"), None),
    );
    check(
        &[("countryCode", "US"), ("stateCode", "ZZ")],
        us(None, Some("ZZ")),
    );
    check(
        &[
            ("countryCode", "CA"),
            ("state", "Ontario"),
            ("stateCode", "ON"),
        ],
        Location {
            country: some("Canada"),
            country_code: some("CA"),
            state: some("Ontario"),
            state_code: some("ON"),
            city: None,
        },
    );
    check(
        &[("countryCode", "AU"), ("state", "Washington")],
        Location {
            country: some("Australia"),
            country_code: some("AU"),
            state: some("Washington"),
            ..Location::default()
        },
    );
    check(
        &[("country", "Narnia"), ("state", "Florida")],
        Location {
            country: some("Narnia"),
            state: some("Florida"),
            ..Location::default()
        },
    );
}

#[test]
fn shown_product() {
    let product = |name: &str, price: Option<Value>| {
        let mut product = json!({"name": name, "link": format!("https://shop.example/{name}")});
        if let Some(price) = price {
            product["price"] = price;
        }
        product
    };
    let check = |products: Vec<Value>, extra: Value, expected: Option<(&str, Option<usize>)>| {
        let mut payload = json!({"email": "joe@example.com", "products": products});
        if let (Some(payload), Value::Object(extra)) = (payload.as_object_mut(), extra) {
            payload.extend(extra);
        }
        let conversion = json_body(payload.clone()).expect("parses");
        let shown = conversion
            .shown_product
            .as_ref()
            .map(|shown| (shown.name.as_str(), shown.products_index));
        assert_eq!(shown, expected, "{payload}");
    };
    let none = json!({});
    check(vec![], none.clone(), None);
    check(
        vec![product("a", None), product("b", None)],
        none.clone(),
        Some(("a", Some(0))),
    );
    check(
        vec![
            product("a", Some(json!(10))),
            product("b", Some(json!(55))),
            product("c", Some(json!(20))),
        ],
        none.clone(),
        Some(("b", Some(1))),
    );
    check(
        vec![
            product("a", None),
            product("b", Some(json!("9.99"))),
            product("c", Some(json!("10.5"))),
        ],
        none.clone(),
        Some(("c", Some(2))),
    );
    check(
        vec![product("a", Some(json!(5))), product("b", Some(json!(5)))],
        none.clone(),
        Some(("a", Some(0))),
    );
    check(
        vec![product("a", None), product("b", Some(json!(0)))],
        none.clone(),
        Some(("b", Some(1))),
    );
    // The top-level product is "the product"; `products` are all kept.
    check(
        vec![product("a", Some(json!(100)))],
        json!({"productName": "Sneakers", "productLink": "https://sneakers.com/sneakers"}),
        Some(("Sneakers", None)),
    );
    // Top-level link or image without a name shows no product of their own.
    check(
        vec![product("a", None)],
        json!({"productLink": "https://sneakers.com/sneakers"}),
        Some(("a", Some(0))),
    );
    check(
        vec![],
        json!({"total": 5, "productImage": "https://x.example/i.png"}),
        None,
    );

    let from_form = form_body(&[
        ("email", "joe@example.com"),
        ("products[0][name]", "Cheap"),
        ("products[0][link]", "https://shop.example/cheap"),
        ("products[0][price]", "9"),
        ("products[1][name]", "Dear"),
        ("products[1][link]", "https://shop.example/dear"),
        ("products[1][price]", "10"),
    ])
    .expect("parses");
    assert_eq!(
        from_form.shown_product.map(|shown| shown.name),
        some("Dear"),
        "prices compare as numbers, not text"
    );
}

#[test]
fn fields_are_cleaned() {
    let conversion = json_body(json!({
        "email": "joe@example.com",
        "firstName": "  Joe\n\tJunior ",
        "lastName": "",
        "city": " San\u{0}  Francisco ",
        "ip": " ::ffff:141.92.55.102 ",
        "guid": 42,
        "currency": "usd",
        "total": 55.9,
        "productName": "Sneakers",
        "productLink": "HTTPS://Sneakers.com/a b",
        "unknown": {"kept": true},
    }))
    .expect("parses");
    assert_eq!(conversion.first_name, "Joe Junior");
    assert_eq!(conversion.last_name, "");
    assert_eq!(conversion.location.city, some("San Francisco"));
    assert_eq!(
        conversion.ip,
        Some(IpAddr::V4(Ipv4Addr::new(141, 92, 55, 102)))
    );
    assert_eq!(conversion.guid, some("42"));
    let purchase = conversion.purchase.as_ref().expect("a purchase");
    assert_eq!(purchase.currency, some("USD"));
    assert_eq!(purchase.total, amount("55.9"));
    assert_eq!(purchase.product_link, some("https://sneakers.com/a%20b"));
    assert_eq!(conversion.raw["unknown"], json!({"kept": true}));

    let exact = form_body(&[
        ("email", "joe@example.com"),
        ("total", "55.90"),
        ("currency", "€"),
    ])
    .expect("parses");
    let purchase = exact.purchase.expect("a purchase");
    assert_eq!(purchase.total.as_ref().map(Amount::as_str), Some("55.90"));
    assert_eq!(purchase.total.as_ref().map(Amount::value), Some(55.9));
    assert_eq!(purchase.currency, some("€"));

    let ipv6 = form_body(&[("email", "joe@example.com"), ("ip", "2001:db8::1")]).expect("parses");
    assert_eq!(ipv6.ip, "2001:db8::1".parse().ok());

    let bom = parse(
        JSON,
        b"\xEF\xBB\xBF{\"email\": \"joe@example.com\"}",
        NOW_MS,
    );
    assert_eq!(
        bom.map(|conversion| conversion.email).as_deref(),
        Ok("joe@example.com")
    );
}

#[test]
fn display_names() {
    let check = |first: &str, last: &str, expected: &str| {
        assert_eq!(display_name(first, last), expected, "{first:?} {last:?}");
    };
    check("Joe", "Bloggs", "Joe B.");
    check("Joe", "bloggs", "Joe B.");
    check("Mary Ann", "Smith-Jones", "Mary Ann S.");
    check("Joe", "", "Joe");
    check("Joe", "  ", "Joe");
    check("", "Bloggs", "Someone");
    check("", "", "Someone");
    check("Élodie", "Östlund", "Élodie Ö.");
    check("Joe", "'t Hooft", "Joe T.");
    check("joe@example.com", "Bloggs", "Someone");
    check("Joe joe@example.com", "Bloggs", "Joe B.");
    check("Joe", "bloggs@example.com", "Joe");
    check("Joe", "bloggs@example.com Bloggs", "Joe B.");
    check("Joe @home", "B", "Joe @home B.");
}

#[test]
fn nothing_public_carries_the_email() {
    let payloads = [
        json!({"email": "joe@example.com", "firstName": "Joe", "lastName": "Bloggs"}),
        json!({"email": "joe@example.com", "firstName": "joe@example.com", "lastName": "joe@example.com"}),
        json!({"email": "joe@example.com", "firstName": "Joe (joe@example.com)", "city": "joe@example.com",
            "state": "joe@example.com", "country": "joe@example.com"}),
        json!({"email": "joe@example.com", "productName": "Gift for joe@example.com",
            "productLink": "https://shop.example/p?ref=joe%40example.com",
            "productImage": "https://shop.example/i.png?for=JOE@EXAMPLE.COM"}),
        json!({"customer": {"email": "joe@example.com"}, "firstName": "Joe", "products": [
            {"name": "joe@example.com", "link": "https://shop.example/joe@example.com"}]}),
    ];
    for payload in payloads {
        let conversion = json_body(payload.clone()).expect("parses");
        assert_eq!(conversion.email, "joe@example.com");
        let public = serde_json::to_string(&conversion.public()).expect("serialises");
        let public = public.to_lowercase();
        assert!(
            !public.contains("joe@example.com") && !public.contains("joe%40example.com"),
            "{payload} shows {public}"
        );
        assert!(!conversion.display_name().contains('@'), "{payload}");
    }
}
