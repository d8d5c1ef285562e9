//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use local_stack::TokenLength;

#[derive(Debug, Parser)]
#[command(
    name = "hitl",
    version,
    about = "Review and operate the human-review workflow (AWS or local mode)",
    after_help = "Local mode: start it with `cargo run -p hitl -- local`, then pass \
                  --endpoint-url http://127.0.0.1:8083 (or export AWS_ENDPOINT_URL)."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where the workflow runs.
#[derive(Debug, Args)]
pub(crate) struct Target {
    /// Step Functions endpoint, e.g. http://127.0.0.1:8083 for local mode.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub(crate) endpoint_url: Option<String>,
    /// AWS region (default: AWS_REGION, the profile's region, or samconfig.toml's).
    #[arg(long, global = true)]
    pub(crate) region: Option<String>,
    /// The state machine ARN (default: the stack's StateMachineArn output, or the only one).
    #[arg(long, global = true, env = "HITL_STATE_MACHINE")]
    pub(crate) state_machine: Option<String>,
    /// The SAM stack (default: stack_name in samconfig.toml).
    #[arg(long, global = true)]
    pub(crate) stack_name: Option<String>,
    /// The SAM configuration file to read the stack name and region from.
    #[arg(long, global = true, default_value = "samconfig.toml")]
    pub(crate) config_file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the stack locally: template.yaml on this machine, no AWS account, no Docker.
    Local(LocalArgs),
    /// Request a review: start an execution with the request as input.
    Start {
        /// The request the reviewers read: a file holding JSON (events/start_execution.json,
        /// or file://events/start_execution.json as the AWS CLI takes it), or JSON text.
        // Required: without it hitl used to request a review of `{}`, an email with
        // nothing to decide on, which no one starting a review means to send.
        #[arg(long, value_name = "FILE|JSON")]
        input: String,
        /// The execution name (default: generated): 1 to 80 ASCII characters, no spaces
        /// and none of < > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /. The same name and
        /// request again is "already running", not a second review.
        #[arg(long)]
        name: Option<String>,
    },
    /// List executions waiting for a review, with the votes so far and who still waits.
    Pending,
    /// Approve a review.
    Approve(Answer),
    /// Reject a review.
    Reject(Answer),
    /// Stop an execution without a decision.
    Cancel {
        /// Execution name or ARN.
        execution: String,
    },
    /// Show an execution's status, decision, votes and history.
    Status {
        /// Execution name or ARN.
        execution: String,
    },
    /// Redrive a FAILED, TIMED_OUT or ABORTED execution: run again only what did not
    /// finish (e.g. a failed Process Approval), keeping the review and its decision.
    Redrive {
        /// Execution name or ARN.
        #[arg(long)]
        execution: String,
    },
    /// Validate the template's state machine definitions as AWS would (before `sam deploy`),
    /// then, for a deployed stack (or local mode), check that every reviewer is subscribed
    /// to the review topic and confirmed.
    Check {
        /// The SAM template whose state machines to validate (default: template.yaml, when
        /// there is one).
        #[arg(long)]
        template: Option<PathBuf>,
        /// Template parameters, as `sam deploy` takes them (Key=Value ...): the values
        /// `DefinitionSubstitutions` put into the definition.
        #[arg(long, num_args = 1..)]
        parameter_overrides: Vec<String>,
        /// The review topic (default: the stack's ReviewTopicArn output; in local mode, or
        /// with no stack named, the only topic named after the template's ReviewTopic).
        #[arg(long)]
        topic_arn: Option<String>,
        /// The addresses that must receive review requests, comma-separated (default: the
        /// deployed stack's ReviewerEmails or ReviewerEmail parameter; in local mode, or with
        /// no stack named, every subscribed address is reported).
        #[arg(long, value_delimiter = ',')]
        reviewers: Vec<String>,
    },
}

/// Which review to answer, and how.
#[derive(Debug, Args)]
pub(crate) struct Answer {
    /// The task token from the email's `Task token:` line.
    #[arg(conflicts_with = "execution")]
    pub(crate) token: Option<String>,
    /// Answer the review this execution (name or ARN) waits for; its token is read from the history.
    #[arg(long)]
    pub(crate) execution: Option<String>,
    /// Answer as this reviewer (their email address, any case): needed with --execution when
    /// the review waits for several reviewers. The vote counts for that address.
    #[arg(long = "as", value_name = "ADDRESS", requires = "execution")]
    pub(crate) as_reviewer: Option<String>,
    /// Your name, recorded with the vote (a display name; --as says whose vote it is).
    #[arg(long)]
    pub(crate) reviewer: Option<String>,
    /// Why, recorded with the vote.
    #[arg(long)]
    pub(crate) comment: Option<String>,
}

/// `hitl local`.
#[derive(Debug, Args)]
pub(crate) struct LocalArgs {
    /// The SAM template to run.
    #[arg(long, default_value = "template.yaml")]
    pub(crate) template: PathBuf,
    /// Template parameters, as `sam deploy` takes them: Key=Value ... The approval policy
    /// (ReviewerEmails, RequiredApprovals, ReminderAfterSeconds, MaxReminders, EscalationEmail,
    /// ReviewTimeoutSeconds, DecisionOnTimeout) is checked before anything is built. With
    /// neither ReviewerEmails nor ReviewerEmail given, local mode uses
    /// ReviewerEmails=reviewer@example.com (email only lands in the outbox).
    #[arg(long, num_args = 1..)]
    pub(crate) parameter_overrides: Vec<String>,
    /// The loopback port for Step Functions, SNS and Lambda.
    #[arg(long, default_value_t = 8083)]
    pub(crate) port: u16,
    /// The address to listen on. Local mode has no authentication: keep it on loopback.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: std::net::IpAddr,
    /// Where the database and the email outbox live; reusing it resumes waiting reviews.
    #[arg(long, default_value = ".hitl")]
    pub(crate) state_dir: PathBuf,
    /// Use the functions as last built (skip `cargo build`).
    #[arg(long)]
    pub(crate) no_build: bool,
    /// Build and run the functions in cargo's dev profile (quicker to build, slower to run).
    /// The default is the profile hitl itself was built in, so that the functions reuse
    /// hitl's compiled dependencies: `cargo run -p hitl` dev, `cargo run --release` release.
    #[arg(long, conflicts_with = "release")]
    pub(crate) debug: bool,
    /// Build and run the functions in the release profile (optimised; slower to build).
    #[arg(long)]
    pub(crate) release: bool,
    /// Pad the task tokens local mode issues to this many characters (732 to 2048, a multiple
    /// of 4), to test an integration with the longest tokens AWS may send (2048).
    #[arg(long, value_name = "CHARS", default_value_t = TokenLength::default())]
    pub(crate) task_token_length: TokenLength,
    /// Another S3-compatible server (MinIO, a real bucket...) for `aws-sdk:s3` tasks and
    /// distributed Maps, with the credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY;
    /// default: local mode's own S3 on its port. Template buckets are still created locally.
    #[arg(long, value_name = "URL")]
    pub(crate) s3_endpoint_url: Option<String>,
}
