//! Short links through the real `review_page` binary behind lambda-local's
//! Runtime API, with the review table (dynamodb-local) and Step Functions
//! (sfn-local) served locally on one port, as `hitl local` serves them.
//!
//! Each review is a real execution: an inline Map of
//! `lambda:invoke.waitForTaskToken` tasks, one per reviewer, as the state
//! machine's "Ask Reviewers" (sfn-local runs no integration here, so each
//! task just waits for its token). The review table is filled by the
//! domain's own Open Review and Ask Reviewer steps with those tokens, and a
//! vote the page sends is counted by the domain's Record Vote with the
//! output Step Functions recorded, as the state machine would.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::types::HistoryEvent;
use base64::Engine;
use hitl_domain::PolicyParameters;
use hitl_domain::policy_flow::memory::RecordingMailer;
use hitl_domain::policy_flow::{
    AskReviewerInput, MessageSettings, OpenReviewInput, RecordVoteInput, RecordVoteOutput,
    ReviewStore, Role, SecretSource, ask_reviewer, open_review, record_vote,
};
use hitl_policy_aws::testing::{Function, LocalAws, REGION, REVIEW_API_ENDPOINT};
use hitl_policy_aws::{RandomSecrets, SystemClock};
use serde_json::{Value, json};

const GET: &str = include_str!("../../../events/review_page_short_get.json");
const POST: &str = include_str!("../../../events/review_page_short_post.json");
/// a@example.com's secret in both events: base64url of the bytes 0..32.
const EVENT_SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const REVIEWERS: [&str; 3] = ["a@example.com", "b@example.com", "c@example.com"];

/// The secret in the sample events, for a's link.
struct EventSecret;

impl SecretSource for EventSecret {
    fn secret(&self) -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }
}

/// A running review: its execution, every reviewer's token and secret.
struct Review {
    aws: LocalAws,
    sfn: Client,
    arn: String,
    tokens: HashMap<String, String>,
    secrets: HashMap<String, String>,
}

impl Review {
    /// `required` of the three reviewers must approve.
    async fn start(required: &str) -> Self {
        let aws = LocalAws::start(&REVIEWERS).await;
        let sfn = Client::from_conf(
            aws_sdk_sfn::Config::builder()
                .http_client(aws_https::https_client())
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(REGION))
                .credentials_provider(Credentials::new("test", "test", None, None, "local"))
                .endpoint_url(&aws.endpoint)
                .build(),
        );
        let definition = json!({"StartAt": "Ask Reviewers", "States": {
            "Ask Reviewers": {"Type": "Map", "ItemsPath": "$.reviewers", "End": true,
                "ItemSelector": {"reviewer.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Ask Reviewer", "States": {
                    "Ask Reviewer": {"Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                        "Parameters": {"FunctionName": "AskReviewer",
                            "Payload": {"reviewer.$": "$.reviewer", "taskToken.$": "$$.Task.Token"}},
                        "End": true}}}}}});
        let machine = sfn
            .create_state_machine()
            .name("HumanReviewStateMachine")
            .definition(definition.to_string())
            .role_arn("arn:aws:iam::123456789012:role/StateMachineRole")
            .send()
            .await
            .expect("CreateStateMachine");
        let request =
            json!({"title": "Refund order 1042", "amount": 129.9, "requestedBy": "r@example.com"});
        let mut input = request.clone();
        input["reviewers"] = json!(REVIEWERS);
        let arn = sfn
            .start_execution()
            .state_machine_arn(machine.state_machine_arn())
            .name("refund-1042")
            .input(input.to_string())
            .send()
            .await
            .expect("StartExecution")
            .execution_arn()
            .to_owned();

        let events = history_until(&sfn, &arn, |e| scheduled(e).len() == 3).await;
        let tokens: HashMap<String, String> = scheduled(&events).into_iter().collect();
        assert_eq!(tokens.len(), 3, "{tokens:?}");

        let policy = PolicyParameters {
            reviewer_emails: "a@example.com,b@example.com,c@example.com",
            required_approvals: required,
            ..PolicyParameters::default()
        }
        .parse();
        let opened = OpenReviewInput {
            execution_arn: arn.clone(),
            request: request.clone(),
        };
        open_review(&aws.store, &SystemClock, &policy, opened)
            .await
            .expect("Open Review");
        let settings = MessageSettings {
            review_api_endpoint: REVIEW_API_ENDPOINT.into(),
            region: REGION.into(),
        };
        let mut secrets = HashMap::new();
        for reviewer in REVIEWERS {
            let mailer = RecordingMailer::default();
            let input = AskReviewerInput {
                execution_arn: arn.clone(),
                execution_name: "refund-1042".into(),
                reviewer: reviewer.into(),
                role: Role::Reviewer,
                task_token: tokens[reviewer].clone(),
                request: request.clone(),
            };
            let store = &aws.store;
            if reviewer == "a@example.com" {
                ask_reviewer(store, &mailer, &SystemClock, &EventSecret, &settings, input).await
            } else {
                ask_reviewer(
                    store,
                    &mailer,
                    &SystemClock,
                    &RandomSecrets,
                    &settings,
                    input,
                )
                .await
            }
            .expect("Ask Reviewer");
            let body = &mailer.sent()[0].body;
            let link = body
                .lines()
                .find(|l| l.starts_with(&format!("{REVIEW_API_ENDPOINT}/review?d=approve&s=")))
                .expect("an approve link");
            let secret = link.rsplit("s=").next().unwrap_or_default().to_owned();
            secrets.insert(reviewer.to_owned(), secret);
        }
        assert_eq!(secrets["a@example.com"], EVENT_SECRET);
        Review {
            aws,
            sfn,
            arn,
            tokens,
            secrets,
        }
    }

    /// The page's real binary, with the environment template.yaml gives it plus `extra`.
    fn page(&self, extra: &[(&str, &str)]) -> Function {
        self.aws.function(env!("CARGO_BIN_EXE_review_page"), extra)
    }

    /// The outputs of the tasks answered so far, oldest first.
    async fn answers(&self) -> Vec<Value> {
        history(&self.sfn, &self.arn)
            .await
            .iter()
            .filter_map(|e| e.task_succeeded_event_details())
            .map(|d| serde_json::from_str(d.output().unwrap_or("null")).expect("JSON output"))
            .collect()
    }

    /// What the state machine's Record Vote does with `reviewer`'s answer.
    async fn record(&self, reviewer: &str, answer: Value) -> RecordVoteOutput {
        let input = RecordVoteInput {
            execution_arn: self.arn.clone(),
            reviewer: reviewer.into(),
            answer,
        };
        record_vote(&self.aws.store, &SystemClock, input)
            .await
            .expect("Record Vote")
    }
}

async fn history(sfn: &Client, arn: &str) -> Vec<HistoryEvent> {
    sfn.get_execution_history()
        .execution_arn(arn)
        .include_execution_data(true)
        .send()
        .await
        .expect("GetExecutionHistory")
        .events()
        .to_vec()
}

async fn history_until(
    sfn: &Client,
    arn: &str,
    ready: impl Fn(&[HistoryEvent]) -> bool,
) -> Vec<HistoryEvent> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let events = history(sfn, arn).await;
        if ready(&events) || Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// (reviewer, token) of each `TaskScheduled` event.
fn scheduled(events: &[HistoryEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| e.task_scheduled_event_details())
        .map(|d| {
            let p: Value = serde_json::from_str(d.parameters()).unwrap_or_default();
            let payload = &p["Payload"];
            let text = |key: &str| payload[key].as_str().unwrap_or_default().to_owned();
            (text("reviewer"), text("taskToken"))
        })
        .collect()
}

/// GET with `query` (the short-link sample event otherwise).
async fn get(page: &Function, query: &str) -> (i64, String) {
    let mut event: Value = serde_json::from_str(GET).unwrap();
    event["rawQueryString"] = json!(query);
    call(page, &event).await
}

/// POST of `form` (the short-link sample event otherwise).
async fn post(page: &Function, form: &str) -> (i64, String) {
    let mut event: Value = serde_json::from_str(POST).unwrap();
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(form));
    call(page, &event).await
}

async fn call(page: &Function, event: &Value) -> (i64, String) {
    let response = page.invoke(event).await.expect("the page answers");
    (
        response["statusCode"].as_i64().unwrap_or_default(),
        response["body"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_reviewer_sees_their_link_and_the_votes_and_votes_once() {
    let review = Review::start("2").await;
    let page = review.page(&[]);

    // The sample GET is a's approve link: the request, whom it is for, no
    // votes yet, the form with the secret and never the token.
    let event: Value = serde_json::from_str(GET).unwrap();
    let (status, html) = call(&page, &event).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<dt>title</dt><dd>Refund order 1042</dd>"),
        "{html}"
    );
    assert!(
        html.contains("<dt>For</dt><dd>a@example.com</dd>"),
        "{html}"
    );
    assert!(
        html.contains("<dd>0 of 2 approvals: no votes yet</dd>"),
        "{html}"
    );
    assert!(html.contains(&format!(r#"name="s" value="{EVENT_SECRET}""#)));
    assert!(html.contains(r#"value="approve" required checked>"#));
    assert!(
        !html.contains(&review.tokens["a@example.com"]),
        "no token on the page"
    );
    assert!(review.answers().await.is_empty(), "a GET answers nothing");

    // The sample POST: a approves with a name and a comment, through a's own token.
    let event: Value = serde_json::from_str(POST).unwrap();
    let (status, html) = call(&page, &event).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("You approved the request"), "{html}");
    let answers = review.answers().await;
    assert_eq!(
        answers,
        [
            json!({"result": true, "reviewer": "Ana Reviewer", "comment": "Within policy.", "via": "link"})
        ]
    );

    // Before Record Vote has counted it, a's wait is closed: SendTaskSuccess
    // answers TaskTimedOut and the page says so, without answering again.
    let form = format!("s={EVENT_SECRET}&d=reject");
    let (status, html) = post(&page, &form).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("already closed"), "{html}");

    // Record Vote counts it as a's link vote, whatever name was typed.
    let counted = review.record("a@example.com", answers[0].clone()).await;
    assert_eq!(
        serde_json::to_value(&counted).unwrap()["state"],
        json!("counted"),
        "{counted:?}"
    );
    let stored = review
        .aws
        .store
        .get_review(&review.arn)
        .await
        .unwrap()
        .unwrap();
    let vote = &stored.tally.votes()[0];
    assert_eq!(vote.reviewer, "a@example.com");
    assert_eq!(vote.name.as_deref(), Some("Ana Reviewer"));
    assert_eq!(vote.via, hitl_domain::policy::Via::Link);

    // Now a is told they voted, by GET and by POST; b sees a's vote.
    for (status, html) in [
        post(&page, &form).await,
        get(&page, &format!("d=reject&s={EVENT_SECRET}")).await,
    ] {
        assert_eq!(status, 409, "{html}");
        assert!(
            html.contains("You have already voted: you approved at 20"),
            "{html}"
        );
        assert!(!html.contains("<form"), "{html}");
    }
    let b = &review.secrets["b@example.com"];
    let (status, html) = get(&page, &format!("d=approve&s={b}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<dt>For</dt><dd>b@example.com</dd>"),
        "{html}"
    );
    assert!(
        html.contains("<dd>1 of 2 approvals: a@example.com approved</dd>"),
        "{html}"
    );
    assert_eq!(review.answers().await.len(), 1, "one answer in all");

    let logs = page.logs().await.join("\n");
    assert!(logs.contains("vote sent"), "{logs}");
    for secret in review.secrets.values() {
        assert!(
            !logs.contains(secret.as_str()),
            "no secret in the logs: {logs}"
        );
        let hash = hitl_domain::policy_flow::link_hash(secret);
        assert!(!logs.contains(&hash), "no link hash in the logs: {logs}");
    }
    for token in review.tokens.values() {
        assert!(
            !logs.contains(token.as_str()),
            "no token in the logs: {logs}"
        );
    }
}

#[tokio::test]
async fn a_decided_review_says_already_decided_to_whoever_has_not_voted() {
    let review = Review::start("2").await;
    let page = review.page(&[]);
    let b = &review.secrets["b@example.com"];
    let (status, html) = post(&page, &format!("s={b}&d=reject&comment=No")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("You rejected the request"), "{html}");
    let answers = review.answers().await;
    assert_eq!(
        answers,
        [json!({"result": false, "comment": "No", "via": "link"})]
    );
    let decided = review.record("b@example.com", answers[0].clone()).await;
    assert_eq!(
        serde_json::to_value(&decided).unwrap()["state"],
        json!("decided"),
        "a rejection decides (veto): {decided:?}"
    );

    // c's wait is still open in Step Functions here; the tally refuses first.
    let c = &review.secrets["c@example.com"];
    for (status, html) in [
        get(&page, &format!("d=approve&s={c}")).await,
        post(&page, &format!("s={c}&d=approve")).await,
    ] {
        assert_eq!(status, 409, "{html}");
        assert!(html.contains("<h1>Already rejected</h1>"), "{html}");
        assert!(html.contains("already decided: rejected"), "{html}");
    }
    assert_eq!(review.answers().await.len(), 1, "c's answer was not sent");
}

#[tokio::test]
async fn an_unknown_secret_says_not_valid_or_expired_and_nothing_else() {
    let review = Review::start("1").await;
    let page = review.page(&[]);
    let unknown = "Zm9yZ2VkLXNlY3JldC10aGF0LXdhcy1uZXZlci1pc3M";
    for (status, html) in [
        get(&page, &format!("d=approve&s={unknown}")).await,
        post(&page, &format!("s={unknown}&d=approve")).await,
    ] {
        assert_eq!(status, 404, "{html}");
        assert!(html.contains("not valid, or it has expired"), "{html}");
        for revealing in ["refund-1042", "Refund order", "@example.com", "<form"] {
            assert!(!html.contains(revealing), "{revealing}: {html}");
        }
    }
    // A cut secret is a damaged link, as for today's links.
    let (status, html) = get(&page, &format!("d=approve&s={}", &EVENT_SECRET[..40])).await;
    assert_eq!(status, 400, "{html}");
    assert!(review.answers().await.is_empty());
}

#[tokio::test]
async fn todays_execution_and_token_links_still_work() {
    let review = Review::start("1").await;
    let page = review.page(&[]);
    let token = &review.tokens["c@example.com"];
    let (status, html) = get(&page, &format!("d=reject&e={}&t={token}", review.arn)).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(&format!(r#"name="t" value="{token}""#)),
        "{html}"
    );
    assert!(
        !html.contains("<dt>For</dt>"),
        "an old link names no reviewer"
    );

    let form = format!(
        "e={}&t={}&d=approve&reviewer=Cy",
        review.arn,
        token.replace('+', "%2B")
    );
    let (status, html) = post(&page, &form).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("You approved"), "{html}");
    assert_eq!(
        review.answers().await,
        [json!({"result": true, "reviewer": "Cy", "via": "link"})]
    );
}

#[tokio::test]
async fn without_the_table_short_links_name_the_variable_and_old_links_work() {
    let review = Review::start("1").await;
    let a = format!("d=approve&s={EVENT_SECRET}");
    let old = format!(
        "d=approve&e={}&t={}",
        review.arn, review.tokens["b@example.com"]
    );

    let unset = review.page(&[("REVIEW_TABLE", "")]);
    let (status, html) = get(&unset, &a).await;
    assert_eq!(status, 500, "{html}");
    assert!(html.contains("REVIEW_TABLE is not set"), "{html}");
    let (status, html) = get(&unset, &old).await;
    assert_eq!(status, 200, "{html}");
    let logs = unset.logs().await.join("\n");
    assert!(logs.contains("REVIEW_TABLE is not set"), "{logs}");

    // A table the page cannot read: the server-problem page, and the log says what to check.
    let unreadable = review.page(&[("REVIEW_TABLE", "NoSuchTable")]);
    let (status, html) = get(&unreadable, &a).await;
    assert_eq!(status, 500, "{html}");
    assert!(html.contains("could not read this review"), "{html}");
    let logs = unreadable.logs().await.join("\n");
    assert!(logs.contains("reading the review table failed"), "{logs}");
    assert!(review.answers().await.is_empty());
}
