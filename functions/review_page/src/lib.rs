//! Review Page: the one-click review behind the email's Approve and Reject
//! links, served by API Gateway (HTTP API, payload format 2.0).
//!
//! - `GET /review?d=approve|reject&e=<execution ARN>&t=<task token>` never
//!   changes anything. It checks that the token belongs to the execution and
//!   renders a page with the request, the clicked decision selected, an
//!   optional name and comment, and one button; or, when the review is no
//!   longer open, a page that says why.
//! - `POST /review` (that form, `application/x-www-form-urlencoded`, fields
//!   `e`, `t`, `d`, `reviewer`, `comment`) checks the same again and calls
//!   `SendTaskSuccess` with `{"result": true|false, "reviewer"?, "comment"?, "via": "link"}`.
//!
//! - Short links (approval policies, issue 14): `GET /review?d=approve|reject&s=<secret>`
//!   and its form (fields `s`, `d`, `reviewer`, `comment`) do the same for the
//!   one reviewer the secret resolves to in the review table (`REVIEW_TABLE`),
//!   with the token stored there, and show whom the link is for and the votes
//!   so far ([`short`]). A request with `s` is always read as a short link.
//!   Without `REVIEW_TABLE`, short links answer a server error that names it;
//!   `e=&t=` links, which reviews in flight during a stack update still
//!   carry, work either way.
//!
//! Mail scanners (Safe Links, Mimecast, Proofpoint) open links, so the GET is
//! safe to open any number of times; they do not fill in and submit forms.
//! The token is the credential: the page sets no cookies and needs none, so a
//! cross-site POST gains nothing that the token alone does not already give.
//! Every outcome is a page ([`Outcome`]); the handler never fails, never
//! shows error text and never logs the token.

mod aws;
pub mod link;
pub mod page;
pub mod review;
pub mod short;

use std::convert::Infallible;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue, Method};
use base64::Engine;
use hitl_domain::policy_flow::ReviewStore;
use hitl_policy_aws::DynamoReviewStore;
use lambda_runtime::LambdaEvent;

pub use aws::SfnClient;
pub use link::{
    Answer, Choice, LinkError, ReviewLink, ShortAnswer, ShortLink, parse_answer, parse_link,
    parse_short_answer, parse_short_link,
};
pub use page::Page;
pub use review::{Outcome, StepFunctions};
pub use short::TABLE_ENV;

/// The route's path (both methods). A stage or custom-domain prefix before
/// it is allowed; the form posts to the relative `review`.
pub const PATH: &str = "/review";

/// The review table, read once at cold start: `None` (logged) when
/// [`TABLE_ENV`] is not set, and then only short links fail.
pub fn store_from_env(config: &aws_https::SdkConfig) -> Option<DynamoReviewStore> {
    match DynamoReviewStore::from_env(config) {
        Ok(store) => Some(store),
        Err(error) => {
            tracing::warn!(error = %error, "short links (s=) will answer a server error");
            None
        }
    }
}

/// The Lambda handler: routes by method and path, and always answers a page.
/// `store` is the review table, for short links.
pub async fn handler(
    sfn: &impl StepFunctions,
    store: Option<&impl ReviewStore>,
    event: LambdaEvent<ApiGatewayV2httpRequest>,
) -> Result<ApiGatewayV2httpResponse, Infallible> {
    Ok(respond(route(sfn, store, &event.payload).await))
}

async fn route(
    sfn: &impl StepFunctions,
    store: Option<&impl ReviewStore>,
    request: &ApiGatewayV2httpRequest,
) -> Page {
    let path = request.raw_path.as_deref().unwrap_or_default();
    if !path.ends_with(PATH) {
        return page::not_found();
    }
    let method = &request.request_context.http.method;
    if method == Method::GET {
        let query = request.raw_query_string.as_deref().unwrap_or_default();
        if link::is_short(query.as_bytes()) {
            match store {
                Some(store) => show_short(sfn, store, query).await,
                None => not_configured(),
            }
        } else {
            show(sfn, query).await
        }
    } else if method == Method::POST {
        match body(request) {
            Some(body) if link::is_short(&body) => match store {
                Some(store) => submit_short(sfn, store, &body).await,
                None => not_configured(),
            },
            Some(body) => submit(sfn, &body).await,
            None => page::outcome(&Outcome::InvalidLink),
        }
    } else {
        page::not_found()
    }
}

fn not_configured() -> Page {
    tracing::error!(
        "{TABLE_ENV} is not set, so a short link (s=) cannot be resolved; deploy the function \
         with template.yaml, which sets it to the review table's name"
    );
    page::outcome(&Outcome::NotConfigured {
        variable: TABLE_ENV,
    })
}

async fn show(sfn: &impl StepFunctions, query: &str) -> Page {
    let link = match parse_link(query) {
        Ok(link) => link,
        Err(error) => {
            tracing::info!(reason = %error, "refused a review link");
            return page::outcome(&Outcome::InvalidLink);
        }
    };
    match review::inspect(sfn, &link).await {
        Ok(open) => page::form(&open, &link),
        Err(outcome) => page::outcome(&outcome),
    }
}

async fn submit(sfn: &impl StepFunctions, body: &[u8]) -> Page {
    let answer = match parse_answer(body) {
        Ok(answer) => answer,
        Err(error) if error.is_answer_too_long() => {
            return page::outcome(&Outcome::AnswerTooLong);
        }
        Err(error) => {
            tracing::info!(reason = %error, "refused a review answer");
            return page::outcome(&Outcome::InvalidLink);
        }
    };
    page::outcome(&review::answer(sfn, &answer).await)
}

async fn show_short(sfn: &impl StepFunctions, store: &impl ReviewStore, query: &str) -> Page {
    let link = match parse_short_link(query) {
        Ok(link) => link,
        Err(error) => {
            tracing::info!(reason = %error, "refused a short review link");
            return page::outcome(&Outcome::InvalidLink);
        }
    };
    match short::inspect(sfn, store, &link).await {
        Ok(review) => page::short_form(&review, &link),
        Err(outcome) => page::outcome(&outcome),
    }
}

async fn submit_short(sfn: &impl StepFunctions, store: &impl ReviewStore, body: &[u8]) -> Page {
    let answer = match parse_short_answer(body) {
        Ok(answer) => answer,
        Err(error) if error.is_answer_too_long() => {
            return page::outcome(&Outcome::AnswerTooLong);
        }
        Err(error) => {
            tracing::info!(reason = %error, "refused a short review answer");
            return page::outcome(&Outcome::InvalidLink);
        }
    };
    page::outcome(&short::answer(sfn, store, &answer).await)
}

/// The body's bytes: API Gateway base64-encodes bodies it treats as binary
/// (`isBase64Encoded`), which for HTTP APIs includes form posts.
fn body(request: &ApiGatewayV2httpRequest) -> Option<Vec<u8>> {
    let body = request.body.as_deref().unwrap_or_default();
    if request.is_base64_encoded {
        base64::engine::general_purpose::STANDARD.decode(body).ok()
    } else {
        Some(body.as_bytes().to_vec())
    }
}

fn respond(page: Page) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    for (name, value) in page::HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(page.status);
    response.headers = headers;
    response.body = Some(Body::Text(page.html));
    response.is_base64_encoded = false;
    response
}
