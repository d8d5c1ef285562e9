//! Review Page's handler, driven with the API Gateway (HTTP API, payload
//! format 2.0) events in `events/` and a fake Step Functions.

mod common;

#[allow(unused_imports)]
use common::*;

#[tokio::test]
async fn the_link_shows_the_request_and_the_form_and_changes_nothing() {
    let sfn = FakeSfn::running();
    let (status, html, response) = call(&sfn, request(GET)).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<dt>title</dt><dd>Refund order 1042</dd>"),
        "{html}"
    );
    assert!(html.contains("<dt>Execution</dt><dd>refund-1042</dd>"));
    assert!(
        html.contains("2026-11-28 12:00:00 UTC"),
        "deadline = scheduled + timeout"
    );
    assert!(
        html.contains(r#"value="approve" required checked>"#),
        "{html}"
    );
    assert!(
        html.contains(&format!(r#"name="t" value="{TOKEN}""#)),
        "the raw + / = token"
    );
    assert!(html.contains(&format!(r#"name="e" value="{ARN}""#)));
    assert!(sfn.sent().is_empty(), "a GET never answers");

    let headers = &response.headers;
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    assert!(response.cookies.is_empty());
}

#[tokio::test]
async fn a_scanner_opening_every_link_many_times_answers_nothing() {
    let sfn = FakeSfn::running();
    for decision in ["approve", "reject"] {
        for _ in 0..5 {
            let query = format!("d={decision}&e={ARN}&t={TOKEN}");
            let (status, _, _) = call(&sfn, with_query(&query)).await;
            assert_eq!(status, 200);
        }
    }
    assert!(sfn.sent().is_empty());
}

#[tokio::test]
async fn the_post_answers_with_result_reviewer_comment_and_via_link() {
    let sfn = FakeSfn::running();
    let (status, html, response) = call(&sfn, request(POST)).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("You rejected the request"));
    let sent = sfn.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, TOKEN, "the token survives form encoding");
    let output: Value = serde_json::from_str(&sent[0].1).unwrap();
    assert_eq!(
        output,
        json!({"result": false, "reviewer": "Bo Reviewer", "comment": "Refund window has closed.", "via": "link"})
    );
    // The answer is what the state machine's Review Decision accepts.
    let answer = hitl_domain::ReviewAnswer::parse(&output).unwrap();
    assert!(!answer.result);
    assert_eq!(response.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_post_that_is_not_base64_encoded_is_read_too() {
    let sfn = FakeSfn::running();
    let mut post = request(POST);
    post.is_base64_encoded = false;
    post.body = Some(format!("e={ARN}&t={}&d=approve", TOKEN.replace('+', "%2B")));
    let (status, html, _) = call(&sfn, post).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("You approved"));
    assert_eq!(sfn.sent()[0].1, r#"{"result":true,"via":"link"}"#);
}

#[tokio::test]
async fn an_answered_review_says_so_and_does_not_answer_again() {
    for (output, words) in [
        (r#"{"result":true,"reviewer":"Ana"}"#, "already approved"),
        (r#"{"result":false}"#, "already rejected"),
    ] {
        let sfn = FakeSfn::running().with_event(EventKind::TaskSucceeded {
            output: Some(output.to_owned()),
        });
        for request in [request(GET), request(POST)] {
            let (status, html, _) = call(&sfn, request).await;
            assert_eq!(status, 409);
            assert!(html.contains(words), "{html}");
            assert!(!html.contains("Ana"), "the earlier reviewer is not shown");
        }
        assert!(sfn.sent().is_empty());
    }
}

#[tokio::test]
async fn an_expired_review_says_it_expired() {
    let sfn = FakeSfn::running().with_event(EventKind::TaskTimedOut);
    for request in [request(GET), request(POST)] {
        let (status, html, _) = call(&sfn, request).await;
        assert_eq!(status, 410);
        assert!(html.contains("Nobody answered in time"), "{html}");
    }
    assert!(sfn.sent().is_empty());
}

#[tokio::test]
async fn a_stopped_execution_says_the_review_was_stopped() {
    let mut sfn = FakeSfn::running();
    sfn.execution = Ok(Execution {
        status: "ABORTED".to_owned(),
        input: Some(START.to_owned()),
    });
    let (status, html, _) = call(&sfn, request(POST)).await;
    assert_eq!(status, 410);
    assert!(html.contains("stopped"), "{html}");
    assert!(sfn.sent().is_empty());
}

#[tokio::test]
async fn an_answer_that_races_another_reports_the_other() {
    let mut sfn = FakeSfn::running();
    sfn.send = Err(SfnError::TaskClosed("TaskTimedOut".to_owned()));
    let mut after = sfn.history.lock().unwrap().clone();
    after.push(Event {
        id: 9,
        timestamp: at("2026-11-25T13:00:00Z"),
        kind: EventKind::TaskSucceeded {
            output: Some(r#"{"result":true}"#.to_owned()),
        },
    });
    sfn.history_after_send = Some(after);
    let (status, html, _) = call(&sfn, request(POST)).await;
    assert_eq!(status, 409);
    assert!(html.contains("already approved"), "{html}");
}

#[tokio::test]
async fn a_token_of_another_execution_is_an_invalid_link() {
    let sfn = FakeSfn::running();
    let other = "AQCEAAAAKgAAAAMAAAAAAAAAAXr0Q1kZ4tJ+7sAmPlEtOkEn/Other+Task/Token==";
    let (status, html, _) = call(&sfn, with_query(&format!("d=approve&e={ARN}&t={other}"))).await;
    assert_eq!(status, 400);
    assert!(html.contains("Invalid or damaged link"));
    // A cut token (a mail client wrapped the line) is not a prefix match.
    let cut = &TOKEN[..TOKEN.len() - 20];
    let form = format!("e={ARN}&t={}&d=approve", cut.replace('+', "%2B"));
    let (status, _, _) = call(&sfn, with_form(&form)).await;
    assert_eq!(status, 400);
    assert!(sfn.sent().is_empty());
}

#[tokio::test]
async fn unknown_executions_and_damaged_links_are_invalid_links() {
    let sfn = FakeSfn::running();
    let unknown = ARN.replace("refund-1042", "refund-9999");
    for query in [
        format!("d=approve&e={unknown}&t={TOKEN}"),
        format!("d=approve&e={ARN}"),
        format!("d=approve&t={TOKEN}"),
        format!("d=yes&e={ARN}&t={TOKEN}"),
        String::new(),
    ] {
        let (status, html, _) = call(&sfn, with_query(&query)).await;
        assert_eq!(status, 400, "{query}");
        assert!(html.contains("Invalid or damaged link"));
    }
    let mut post = request(POST);
    post.body = Some("%%% not base64".to_owned());
    let (status, _, _) = call(&sfn, post).await;
    assert_eq!(status, 400);
    assert!(sfn.sent().is_empty());
}

#[tokio::test]
async fn a_comment_over_the_limit_asks_to_shorten_it() {
    let sfn = FakeSfn::running();
    let form = format!(
        "e={ARN}&t={}&d=approve&comment={}",
        TOKEN.replace('+', "%2B"),
        "x".repeat(1001)
    );
    let (status, html, _) = call(&sfn, with_form(&form)).await;
    assert_eq!(status, 400);
    assert!(html.contains("shorten it"), "{html}");
    assert!(sfn.sent().is_empty());
}

#[tokio::test]
async fn service_errors_say_try_again_and_never_echo_the_error() {
    let mut sfn = FakeSfn::running();
    sfn.send = Err(SfnError::Service(
        "ThrottlingException: Rate exceeded <b>".to_owned(),
    ));
    let (status, html, _) = call(&sfn, request(POST)).await;
    assert_eq!(status, 503);
    assert!(html.contains("Try again later"));
    assert!(!html.contains("Throttling") && !html.contains("Rate exceeded"));

    let mut sfn = FakeSfn::running();
    sfn.execution = Err(SfnError::Service("InternalError".to_owned()));
    let (status, html, _) = call(&sfn, request(GET)).await;
    assert_eq!(status, 503);
    assert!(!html.contains("InternalError"));
}

#[tokio::test]
async fn an_access_denied_is_a_server_problem_not_an_invalid_link() {
    // GIVEN a role that may not read executions (a broken IAM policy)
    let mut sfn = FakeSfn::running();
    sfn.execution = Err(SfnError::AccessDenied {
        permission: "states:DescribeExecution",
    });
    // WHEN the reviewer opens the link, or confirms the answer
    for event in [GET, POST] {
        let (status, html, _) = call(&sfn, request(event)).await;
        // THEN the page answers 500 and says it is not their link
        assert_eq!(status, 500, "{html}");
        assert!(html.contains("Server problem"), "{html}");
        assert!(html.contains("not with your link"), "{html}");
        assert!(!html.contains("not valid"), "{html}");
        assert!(
            !html.contains("DescribeExecution"),
            "the page names no internals: {html}"
        );
    }
    assert!(sfn.sent().is_empty(), "nothing was answered");

    // AND a role that may read but not answer gets the same page on POST
    let mut sfn = FakeSfn::running();
    sfn.send = Err(SfnError::AccessDenied {
        permission: "states:SendTaskSuccess",
    });
    let (status, html, _) = call(&sfn, request(POST)).await;
    assert_eq!(status, 500, "{html}");
    assert!(html.contains("not with your link"), "{html}");
}

#[tokio::test]
async fn hostile_input_in_the_request_is_escaped() {
    let mut sfn = FakeSfn::running();
    sfn.execution = Ok(Execution {
        status: "RUNNING".to_owned(),
        input: Some(
            json!({"<img src=x onerror=alert(1)>": "</dd><script>alert(1)</script>"}).to_string(),
        ),
    });
    let (status, html, _) = call(&sfn, request(GET)).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("<script>") && !html.contains("<img"),
        "{html}"
    );
    assert!(html.contains("&lt;/dd&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn other_paths_and_methods_are_not_found() {
    let sfn = FakeSfn::running();
    let mut get = request(GET);
    get.raw_path = Some("/2015-03-31/functions/x/invocations".to_owned());
    assert_eq!(call(&sfn, get).await.0, 404);
    let mut put = request(POST);
    put.request_context.http.method = aws_lambda_events::http::Method::PUT;
    assert_eq!(call(&sfn, put).await.0, 404);
    // A stage prefix (a named stage or a custom domain's base path) still routes.
    let mut staged = request(GET);
    staged.raw_path = Some("/prod/review".to_owned());
    assert_eq!(call(&sfn, staged).await.0, 200);
    assert!(sfn.sent().is_empty());
}
