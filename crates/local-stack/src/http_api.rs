//! The template's HTTP APIs (`AWS::Serverless::HttpApi` and functions'
//! `HttpApi` events) on the local port: a request whose method and path match
//! a route is handed to the route's function as an API Gateway HTTP API event
//! (payload format 2.0), and the function's answer becomes the HTTP response.
//!
//! Payload format 2.0, as the API Gateway developer guide describes it
//! ("Working with AWS Lambda proxy integrations for HTTP APIs"): the event has
//! `version`, `routeKey`, `rawPath`, `rawQueryString` (as received),
//! lower-case `headers`, `queryStringParameters`, `requestContext.http`, and
//! `body` (base64 with `isBase64Encoded` unless it is text). The function
//! answers `{statusCode, headers, body, isBase64Encoded, cookies}`; an answer
//! without `statusCode` is sent as a 200 JSON body; a function error is a 500
//! `{"message":"Internal Server Error"}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use lambda_local::{LambdaHost, Outcome};
use serde_json::{Map, Value, json};

/// API Gateway's payload limit for HTTP APIs is 10 MB.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// One route of an HTTP API.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) api_id: String,
    /// `GET`, `POST`, ... or `ANY`.
    pub(crate) method: String,
    /// `/review`, `/items/{id}`, `/{proxy+}`.
    pub(crate) path: String,
    pub(crate) function: String,
}

impl Route {
    fn route_key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path parameters when this route matches, `None` otherwise.
    fn matches(&self, method: &str, path: &str) -> Option<Map<String, Value>> {
        if self.method != "ANY" && !self.method.eq_ignore_ascii_case(method) {
            return None;
        }
        let mut parameters = Map::new();
        let mut actual = path.trim_start_matches('/').split('/');
        for pattern in self.path.trim_start_matches('/').split('/') {
            if let Some(name) = pattern
                .strip_prefix('{')
                .and_then(|rest| rest.strip_suffix("+}"))
            {
                let rest: Vec<&str> = actual.by_ref().collect();
                parameters.insert(name.to_owned(), json!(rest.join("/")));
                return Some(parameters);
            }
            let segment = actual.next()?;
            match pattern
                .strip_prefix('{')
                .and_then(|rest| rest.strip_suffix('}'))
            {
                Some(name) => {
                    parameters.insert(name.to_owned(), json!(segment));
                }
                None if pattern == segment => {}
                None => return None,
            }
        }
        actual.next().is_none().then_some(parameters)
    }
}

/// What the fallback handler needs.
#[derive(Clone)]
pub(crate) struct HttpApis {
    pub(crate) routes: Arc<Vec<Route>>,
    pub(crate) lambda: LambdaHost,
}

/// Serves a request for an HTTP API route, or answers 404 like API Gateway.
pub(crate) async fn handle(
    State(apis): State<HttpApis>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    request: Request,
) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let Some((route, path_parameters)) = apis
        .routes
        .iter()
        .find_map(|route| route.matches(&method, &path).map(|p| (route, p)))
    else {
        return (
            StatusCode::NOT_FOUND,
            [("content-type", "application/json")],
            r#"{"message":"Not Found"}"#,
        )
            .into_response();
    };
    let query = request.uri().query().unwrap_or("").to_owned();
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            r#"{"message":"Request Entity Too Large"}"#,
        )
            .into_response();
    };
    let event = event(
        route,
        &parts.headers,
        &method,
        &path,
        &query,
        path_parameters,
        &body,
        peer,
    );
    match apis
        .lambda
        .invoke(&route.function, Bytes::from(event.to_string()))
        .await
    {
        Ok(invocation) => match invocation.outcome {
            Outcome::Success(bytes) => response(&bytes),
            Outcome::Error(_) => internal_error(),
        },
        Err(_) => internal_error(),
    }
}

fn internal_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [("content-type", "application/json")],
        r#"{"message":"Internal Server Error"}"#,
    )
        .into_response()
}

#[allow(clippy::too_many_arguments)] // one call site; each is a distinct part of the event
fn event(
    route: &Route,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    query: &str,
    path_parameters: Map<String, Value>,
    body: &[u8],
    peer: std::net::SocketAddr,
) -> Value {
    let mut header_map: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
            continue;
        }
        header_map
            .entry(name.as_str().to_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    let mut query_parameters: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        query_parameters
            .entry(name.into_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    let now = chrono::Utc::now();
    let host = header_map.get("host").cloned().unwrap_or_default();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.route_key(),
        "rawPath": path,
        "rawQueryString": query,
        "headers": header_map,
        "requestContext": {
            "accountId": crate::LOCAL_ACCOUNT,
            "apiId": route.api_id,
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or(""),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route.route_key(),
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query_parameters.is_empty() {
        event["queryStringParameters"] = json!(query_parameters);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = Value::Object(path_parameters);
    }
    if !body.is_empty() {
        // API Gateway base64-encodes bodies it does not treat as text; form
        // posts arrive encoded, which functions must accept.
        event["body"] = json!(BASE64.encode(body));
        event["isBase64Encoded"] = json!(true);
    }
    event
}

/// The HTTP response for a function's payload-2.0 answer.
fn response(bytes: &[u8]) -> Response {
    let Ok(answer) = serde_json::from_slice::<Value>(bytes) else {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            bytes.to_vec(),
        )
            .into_response();
    };
    let Some(status) = answer.get("statusCode").and_then(Value::as_u64) else {
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            answer.to_string(),
        )
            .into_response();
    };
    let status = u16::try_from(status)
        .ok()
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match answer.get("body") {
        Some(Value::String(text)) if answer.get("isBase64Encoded") == Some(&json!(true)) => {
            BASE64.decode(text).unwrap_or_default()
        }
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
        None => Vec::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Some(headers) = answer.get("headers").and_then(Value::as_object) {
        for (name, value) in headers {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
    }
    for cookie in answer
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append("set-cookie", value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> Route {
        Route {
            api_id: "api".into(),
            method: method.into(),
            path: path.into(),
            function: "f".into(),
        }
    }

    #[test]
    fn routes_match_method_path_and_parameters() {
        assert_eq!(
            route("GET", "/review").matches("GET", "/review"),
            Some(Map::new())
        );
        assert_eq!(route("GET", "/review").matches("POST", "/review"), None);
        assert_eq!(route("GET", "/review").matches("GET", "/review/x"), None);
        assert_eq!(
            route("ANY", "/review").matches("POST", "/review"),
            Some(Map::new())
        );
        let parameters = route("GET", "/items/{id}")
            .matches("GET", "/items/42")
            .unwrap();
        assert_eq!(parameters["id"], "42");
        let proxy = route("ANY", "/{proxy+}").matches("GET", "/a/b").unwrap();
        assert_eq!(proxy["proxy"], "a/b");
    }

    #[test]
    fn events_carry_the_raw_query_and_an_encoded_body() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:8083"));
        let event = event(
            &route("POST", "/review"),
            &headers,
            "POST",
            "/review",
            "t=a+b%2Fc=&e=x",
            Map::new(),
            b"d=approve",
            "127.0.0.1:5000".parse().unwrap(),
        );
        assert_eq!(event["version"], "2.0");
        assert_eq!(event["routeKey"], "POST /review");
        assert_eq!(event["rawQueryString"], "t=a+b%2Fc=&e=x");
        assert_eq!(event["queryStringParameters"]["t"], "a b/c=");
        assert_eq!(event["requestContext"]["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(
            BASE64.decode(event["body"].as_str().unwrap()).unwrap(),
            b"d=approve"
        );
    }

    #[test]
    fn answers_become_responses() {
        let answer = json!({
            "statusCode": 409,
            "headers": {"content-type": "text/html", "cache-control": "no-store"},
            "body": "<p>already decided</p>"
        });
        let conflict = response(answer.to_string().as_bytes());
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        assert_eq!(conflict.headers()["cache-control"], "no-store");

        let plain = response(br#"{"hello":"world"}"#);
        assert_eq!(plain.status(), StatusCode::OK);
    }
}
