//! End to end with a real browser: `hitl local` runs the workflow, a review
//! request lands in the local outbox as an `.eml`, and headless Chromium
//! opens its Approve or Reject link, fills in the page by its labels, clicks
//! **Send my decision** and reads the answer page, as a reviewer would. Each
//! test checks what the reviewer sees and what really happened: the
//! execution's status and output through the Step Functions API.
//!
//! Skipped, with the reason, when Chromium, Node or playwright-core is
//! missing, unless `HITL_REQUIRE_BROWSER=1` (scripts/test.sh sets it, and
//! installs them). The ignored test `screenshots_of_the_review_page_for_the_readme`
//! refreshes `docs/review-page.png` and `docs/review-done.png`:
//! `cargo test -p hitl --test browser_e2e -- --ignored screenshots`.

mod browser;
// Each test binary uses part of the shared fixtures.
#[allow(dead_code)]
use std::sync::{Arc, Weak};

use serde_json::{Value, json};

use browser::{Browser, Fill, Page};
use test_support::{
    Described, LocalMode, ReviewEmail, Sdk, SharedSlot, StepFunctions, TIMEOUT, event, http, poll,
    query_value, repo_root, shared,
};

/// The instance the tests share (distinct execution names).
static STACK: SharedSlot = SharedSlot::new(Weak::new());

fn sdk() -> (Arc<LocalMode>, Sdk) {
    let local = shared(&STACK, &[]);
    let sdk = Sdk::connect(&local);
    (local, sdk)
}

const REVIEWER: &str = "Ana Reviewer";
/// With the characters HTML and form encoding treat specially.
const COMMENT: &str = "Photos confirm the damage <b>&</b> \"it's\" 100% + fine.\nSecond line.";

/// GIVEN a review of `input`: the execution's ARN and its email.
fn request_review(
    sfn: &dyn StepFunctions,
    local: &LocalMode,
    name: &str,
    input: &Value,
) -> (String, ReviewEmail) {
    let execution = sfn.start(name, &input.to_string());
    (execution, local.outbox().review_email(name))
}

/// THEN the browser shows the review form of `name`, styled, with `decision`
/// selected and the request's fields, and nothing was decided by opening it.
fn assert_form(page: &Page, name: &str, decision: &str, input: &Value) {
    assert_eq!(page.status, 200, "{page:#?}");
    assert_eq!(page.path, "/review");
    assert_eq!(page.title, format!("Review {name}"));
    assert_eq!(
        page.heading.as_deref(),
        Some(format!("Review request: {name}").as_str())
    );
    assert!(
        page.text.contains("Opening this page changed nothing"),
        "{page:#?}"
    );
    assert!(page.text.contains("Answer by"), "{page:#?}");
    for (key, value) in input.as_object().expect("an object input") {
        let shown = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        assert!(
            page.text.contains(&format!("{key}\n{shown}"))
                || page.text.contains(&format!("{key}\t{shown}")),
            "field {key} with {shown:?} not shown as text in {:?}",
            page.text
        );
    }
    assert_eq!(page.forms, 1, "{page:#?}");
    assert_eq!(page.buttons, ["Send my decision"]);
    assert_eq!(page.decision.as_deref(), Some(decision), "{page:#?}");
    assert_page_is_safe(page);
}

/// THEN the browser shows an answer page: no form, this status and heading.
fn assert_outcome(page: &Page, status: u16, heading: &str, words: &str) {
    assert_eq!(page.status, status, "{page:#?}");
    assert_eq!(page.heading.as_deref(), Some(heading), "{page:#?}");
    assert!(page.text.contains(words), "{words:?} not in {page:#?}");
    assert_eq!(page.forms, 0, "{page:#?}");
    assert!(page.buttons.is_empty(), "{page:#?}");
    assert_page_is_safe(page);
}

/// The page came with its script-free CSP, its style applied under it, and
/// the browser reported no violation or error (other than the page's own
/// status, which Chromium reports for every 4xx page).
fn assert_page_is_safe(page: &Page) {
    let csp = page.csp.as_deref().unwrap_or_default();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    assert!(page.styled, "the style block did not apply: {page:#?}");
    let own_status = format!(
        "error: Failed to load resource: the server responded with a status of {} ",
        page.status
    );
    let reported: Vec<&String> = page
        .console
        .iter()
        .filter(|message| !message.starts_with(&own_status))
        .collect();
    assert!(reported.is_empty(), "console: {reported:#?}");
}

/// THEN the execution succeeded with `decision` and exactly `review` as the
/// answer, the request unchanged. Gives the decision record.
fn assert_decided(described: &Described, decision: &str, input: &Value, review: &Value) -> Value {
    assert_eq!(described.status, "SUCCEEDED", "{described:?}");
    let record = described.output.clone().expect("an output");
    assert_eq!(record["decision"], decision, "{record}");
    assert_eq!(&record["request"], input, "{record}");
    assert_eq!(&record["review"], review, "{record}");
    record
}

#[test]
fn a_reviewer_approves_in_the_browser_and_a_second_click_says_already_approved() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let (local, sdk) = sdk();
    let name = "browser-approve";
    let input = event("start_execution.json");
    let (execution, email) = request_review(&sdk, &local, name, &input);

    // WHEN the reviewer clicks Approve in the email, twice (two tabs)
    let form = browser.open("first", &email.approve_link);
    assert_form(&form, name, "approve", &input);
    let second = browser.open("second", &email.approve_link);
    assert_form(&second, name, "approve", &input);
    // THEN opening the page decided nothing
    assert_eq!(sdk.describe(&execution).status, "RUNNING");

    // WHEN they type a name and a comment in the first tab and send
    browser.fill(
        "first",
        &Fill {
            reviewer: Some(REVIEWER),
            comment: Some(COMMENT),
            ..Fill::default()
        },
    );
    let done = browser.send("first");
    // THEN the page confirms, and the execution is approved through the link
    // with what they typed
    assert_outcome(&done, 200, "Approved", "You approved the request");
    let review = json!({"result": true, "reviewer": REVIEWER, "comment": COMMENT, "via": "link"});
    let record = assert_decided(
        &sdk.wait_until_done(&execution),
        "approved",
        &input,
        &review,
    );
    assert_eq!(record["reviewer"], REVIEWER);
    assert_eq!(record["comment"], COMMENT);
    local.outbox().wait_for(&format!("Approved: {name}"));

    // WHEN the second tab sends too
    let again = browser.send("second");
    // THEN it says the review was already approved, and the decision stands
    assert_outcome(&again, 409, "Already approved", "already approved");
    // AND so does opening the link again
    let reopened = browser.open("first", &email.approve_link);
    assert_outcome(&reopened, 409, "Already approved", "nothing changed");
    let reject = browser.open("first", &email.reject_link);
    assert_outcome(&reject, 409, "Already approved", "nothing changed");
    assert_eq!(
        sdk.describe(&execution).output.expect("an output")["review"],
        review
    );
}

#[test]
fn a_reviewer_rejects_in_the_browser_and_the_approve_link_then_says_already_rejected() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let (local, sdk) = sdk();
    let name = "browser-reject";
    // A request with markup in it: the page shows it as text, and no script runs.
    let mut input = event("start_execution.json");
    input["title"] = json!("<b>Refund</b> <script>alert(1)</script> & \"more\"");
    let (execution, email) = request_review(&sdk, &local, name, &input);

    // WHEN the reviewer clicks Reject in the email
    let form = browser.open("tab", &email.reject_link);
    assert_form(&form, name, "reject", &input);
    assert_eq!(sdk.describe(&execution).status, "RUNNING");
    // AND sends with a comment only
    browser.fill(
        "tab",
        &Fill {
            comment: Some("Refund window has closed."),
            ..Fill::default()
        },
    );
    let done = browser.send("tab");
    // THEN the page confirms, and the execution is rejected through the link
    assert_outcome(&done, 200, "Rejected", "You rejected the request");
    let review = json!({"result": false, "comment": "Refund window has closed.", "via": "link"});
    let record = assert_decided(
        &sdk.wait_until_done(&execution),
        "rejected",
        &input,
        &review,
    );
    assert_eq!(record["comment"], "Refund window has closed.");
    assert!(
        record.get("reviewer").is_none_or(Value::is_null),
        "{record}"
    );
    local.outbox().wait_for(&format!("Rejected: {name}"));

    // WHEN the Approve link is clicked afterwards
    let late = browser.open("tab", &email.approve_link);
    // THEN it says the review was already rejected
    assert_outcome(&late, 409, "Already rejected", "already rejected");
    assert_eq!(
        sdk.describe(&execution).output.expect("an output")["decision"],
        "rejected"
    );
}

#[test]
fn a_reviewer_can_change_the_clicked_decision_on_the_page() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let (local, sdk) = sdk();
    let name = "browser-change-mind";
    let input = event("start_execution.json");
    let (execution, email) = request_review(&sdk, &local, name, &input);
    // WHEN the reviewer clicked Approve, but chooses Reject on the page
    let form = browser.open("tab", &email.approve_link);
    assert_form(&form, name, "approve", &input);
    browser.fill(
        "tab",
        &Fill {
            decision: Some("reject"),
            reviewer: Some(REVIEWER),
            ..Fill::default()
        },
    );
    // THEN the page's choice is what counts
    let done = browser.send("tab");
    assert_outcome(&done, 200, "Rejected", "You rejected the request");
    assert_decided(
        &sdk.wait_until_done(&execution),
        "rejected",
        &input,
        &json!({"result": false, "reviewer": REVIEWER, "via": "link"}),
    );
}

#[test]
fn a_page_left_open_until_the_review_expires_says_expired() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    // GIVEN local mode whose reviews expire 8 seconds after they are sent,
    // long enough for a loaded machine to show the form first
    let local = LocalMode::start(&["ReviewTimeoutSeconds=8"]);
    let sdk = Sdk::connect(&local);
    // (The browser is started before the clock runs: a link without its
    // query is a damaged link.)
    let damaged = browser.open("tab", &format!("{}/review", local.endpoint()));
    assert_outcome(&damaged, 400, "Invalid or damaged link", "Nothing changed");
    let name = "browser-expires";
    let input = event("start_execution.json");
    let (execution, email) = request_review(&sdk, &local, name, &input);

    // WHEN the reviewer opens the page and fills it in, but sends only after the deadline
    let form = browser.open("tab", &email.approve_link);
    assert_form(&form, name, "approve", &input);
    browser.fill(
        "tab",
        &Fill {
            reviewer: Some(REVIEWER),
            ..Fill::default()
        },
    );
    let expired = json!({"result": false, "expired": true});
    assert_decided(
        &sdk.wait_until_done(&execution),
        "rejected",
        &input,
        &expired,
    );
    let late = browser.send("tab");
    // THEN the page says the review expired, and the expiry stands
    assert_outcome(
        &late,
        410,
        "Review expired",
        "Nobody decided this request in time",
    );
    // AND so does either link, opened again
    for link in [&email.approve_link, &email.reject_link] {
        let reopened = browser.open("tab", link);
        assert_outcome(
            &reopened,
            410,
            "Review expired",
            "Nobody decided this request in time",
        );
    }
    assert_decided(&sdk.describe(&execution), "rejected", &input, &expired);
}

/// The value the page shows for `key` in a definition list (`innerText`
/// puts a `<dd>` on the line after its `<dt>`, or after a tab).
fn field<'p>(page: &'p Page, key: &str) -> Option<&'p str> {
    let lines: Vec<&str> = page.text.lines().collect();
    lines.iter().enumerate().find_map(|(i, line)| {
        if *line == key {
            lines.get(i + 1).copied()
        } else {
            line.strip_prefix(key)?.strip_prefix('\t')
        }
    })
}

/// THEN the short link's form is for `reviewer` alone, with `votes` so far:
/// the page names no other reviewer than those who voted.
fn assert_for(page: &Page, reviewer: &str, votes: &str, others: &[&str]) {
    assert_eq!(field(page, "For"), Some(reviewer), "{page:#?}");
    assert_eq!(field(page, "Votes so far"), Some(votes), "{page:#?}");
    for other in others {
        assert!(
            !page.text.contains(other),
            "{other} on {reviewer}'s page: {page:#?}"
        );
    }
}

/// Issue 14 in the browser: 2 of 3 reviewers, each through their own email's
/// link, in their own tab; then the third reviewer's link, the first one's
/// again, and a late form post over plain HTTP.
#[test]
fn two_of_three_reviewers_each_answer_on_their_own_page_and_the_third_finds_it_decided() {
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    const A: &str = "a@x.com";
    const B: &str = "b@x.com";
    const C: &str = "c@x.com";
    // GIVEN three reviewers, two of whom must approve
    let local = LocalMode::start(&[
        "ReviewerEmails=a@x.com,b@x.com,c@x.com",
        "RequiredApprovals=2",
    ]);
    let sdk = Sdk::connect(&local);
    let name = "browser-two-of-three";
    let input = event("start_execution.json");
    let execution = sdk.start(name, &input.to_string());
    let [a, b, c] = [A, B, C].map(|to| local.outbox().review_email_to(name, to));

    // WHEN a opens the Approve link of their email
    let form = browser.open("a", &a.approve_link);
    // THEN the page is a's own, with no votes yet
    assert_form(&form, name, "approve", &input);
    assert_for(&form, A, "0 of 2 approvals: no votes yet", &[B, C]);
    // WHEN a sends it with their name
    browser.fill(
        "a",
        &Fill {
            reviewer: Some("Ana"),
            ..Fill::default()
        },
    );
    let voted = browser.send("a");
    // THEN the vote is counted, and the review waits for a second approval
    assert_outcome(&voted, 200, "Approved", "your vote is counted");
    poll(
        "a's vote to be counted",
        TIMEOUT,
        || (sdk.exited(&execution, "Record Vote") >= 1).then_some(()),
        || format!("{:?}", sdk.describe(&execution)),
    );
    assert_eq!(sdk.describe(&execution).status, "RUNNING");

    // WHEN b opens their own Approve link, in another tab
    let form = browser.open("b", &b.approve_link);
    // THEN the page is b's, and shows a's vote so far
    assert_form(&form, name, "approve", &input);
    assert_for(&form, B, "1 of 2 approvals: a@x.com approved", &[C]);
    browser.fill(
        "b",
        &Fill {
            reviewer: Some("Bo"),
            comment: Some("Fine by me."),
            ..Fill::default()
        },
    );
    let voted = browser.send("b");
    assert_outcome(&voted, 200, "Approved", "your vote is counted");
    // THEN the second approval decides: approved, a's vote and b's, each
    // counted for the reviewer whose link it came through
    let done = sdk.wait_until_done(&execution);
    assert_eq!(done.status, "SUCCEEDED", "{done:?}");
    let output = done.output.expect("the decision record");
    assert_eq!(output["decision"], "approved", "{output}");
    assert_eq!(&output["request"], &input, "{output}");
    let votes: Vec<Value> = output["votes"]
        .as_array()
        .unwrap_or_else(|| panic!("no votes in {output}"))
        .iter()
        .map(|vote| {
            json!({
                "reviewer": vote["reviewer"],
                "result": vote["result"],
                "via": vote["via"],
                "name": vote["name"],
            })
        })
        .collect();
    assert_eq!(
        votes,
        [
            json!({"reviewer": A, "result": true, "via": "link", "name": "Ana"}),
            json!({"reviewer": B, "result": true, "via": "link", "name": "Bo"}),
        ]
    );
    assert_eq!(output["votes"][1]["comment"], "Fine by me.");

    // WHEN c opens either link of their email afterwards
    // THEN the review is already decided, and there is no form to send
    for link in [&c.approve_link, &c.reject_link] {
        let late = browser.open("c", link);
        assert_outcome(&late, 409, "Already approved", "already decided: approved");
        assert!(
            !late.text.contains(A) && !late.text.contains(B),
            "{late:#?}"
        );
    }
    // AND a's link, opened again, says a already voted
    let again = browser.open("a", &a.approve_link);
    assert_outcome(
        &again,
        409,
        "Already approved",
        "You have already voted: you approved at",
    );

    // WHEN c's form is posted anyway (a page left open, a replayed request)
    let (status, page) = http(
        "POST",
        &format!("{}/review", local.endpoint()),
        Some(&[("s", &query_value(&c.reject_link, "s")), ("d", "reject")]),
    );
    // THEN it is refused as late, and the decision and its two votes stand
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("already decided: approved"), "{page}");
    assert_eq!(sdk.describe(&execution).output, Some(output.clone()));
    assert_eq!(sdk.scheduled(&execution, "ProcessApprovalFunction"), 1);
    assert_eq!(sdk.exited(&execution, "Record Vote"), 2);
}

/// Refreshes the README's pictures of the review page from a real run:
/// `cargo test -p hitl --test browser_e2e -- --ignored screenshots`.
#[test]
#[ignore = "writes docs/review-page.png and docs/review-done.png"]
fn screenshots_of_the_review_page_for_the_readme() {
    let mut browser = Browser::launch().expect("a browser, to take screenshots");
    let (local, sdk) = sdk();
    let name = "refund-1042";
    let input = event("start_execution.json");
    let (execution, email) = request_review(&sdk, &local, name, &input);
    let form = browser.open("tab", &email.approve_link);
    assert_form(&form, name, "approve", &input);
    browser.fill(
        "tab",
        &Fill {
            reviewer: Some(REVIEWER),
            comment: Some("Photos confirm the damage."),
            ..Fill::default()
        },
    );
    let docs = repo_root().join("docs");
    browser.screenshot("tab", &docs.join("review-page.png"));
    let done = browser.send("tab");
    assert_outcome(&done, 200, "Approved", "You approved the request");
    browser.screenshot("tab", &docs.join("review-done.png"));
    sdk.wait_until_done(&execution);
}
