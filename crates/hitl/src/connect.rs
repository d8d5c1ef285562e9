//! Connecting to Step Functions: region, credentials, endpoint, and which
//! state machine the commands act on. Errors name the fix.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use aws_config::{Region, SdkConfig};
use aws_sdk_sfn::config::Credentials;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};

use crate::cli::Target;

/// The region local mode uses when nothing else names one.
const LOCAL_REGION: &str = "us-east-1";

/// A connection to AWS or to local mode.
pub(crate) struct Connection {
    pub(crate) sfn: aws_sdk_sfn::Client,
    pub(crate) config: SdkConfig,
    endpoint: Option<String>,
    stack_name: Option<String>,
    state_machine: Option<String>,
}

/// What `samconfig.toml` tells: the stack name and region `sam deploy` used.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct SamConfig {
    pub(crate) stack_name: Option<String>,
    pub(crate) region: Option<String>,
}

impl SamConfig {
    /// Reads the `default` environment of a SAM configuration file; a missing
    /// file is an empty configuration.
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", path.display()));
            }
        };
        Self::parse(&text).with_context(|| format!("{} is not valid TOML", path.display()))
    }

    fn parse(text: &str) -> Result<Self> {
        let document: toml::Table = text.parse()?;
        let read = |command: &str, key: &str| {
            document
                .get("default")
                .and_then(|env| env.get(command))
                .and_then(|command| command.get("parameters"))
                .and_then(|parameters| parameters.get(key))
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        };
        Ok(Self {
            stack_name: read("deploy", "stack_name").or_else(|| read("global", "stack_name")),
            region: read("deploy", "region").or_else(|| read("global", "region")),
        })
    }
}

impl Connection {
    pub(crate) async fn new(target: &Target) -> Result<Self> {
        let sam = SamConfig::read(&target.config_file)?;
        let mut loader = aws_https::defaults();
        let endpoint = target.endpoint_url.clone().filter(|url| !url.is_empty());
        if let Some(endpoint) = &endpoint {
            // Local mode accepts any signature; dummy credentials spare the
            // user an AWS profile they may not have.
            loader = loader
                .endpoint_url(endpoint)
                .credentials_provider(Credentials::new(
                    "local",
                    "local",
                    None,
                    None,
                    "hitl-local-mode",
                ));
        }
        if let Some(region) = target.region.clone() {
            loader = loader.region(Region::new(region));
        }
        let mut config = loader.load().await;
        if config.region().is_none() {
            let region = sam
                .region
                .clone()
                .or_else(|| endpoint.as_ref().map(|_| LOCAL_REGION.to_owned()))
                .ok_or_else(|| {
                    anyhow!(
                        "no AWS region: pass --region (the region you deployed to), \
                         or set AWS_REGION, or use --endpoint-url for local mode"
                    )
                })?;
            config = config.into_builder().region(Region::new(region)).build();
        }
        Ok(Self {
            sfn: aws_sdk_sfn::Client::new(&config),
            config,
            endpoint,
            stack_name: target.stack_name.clone().or(sam.stack_name),
            state_machine: target.state_machine.clone(),
        })
    }

    /// The state machine to act on.
    pub(crate) async fn state_machine(&self) -> Result<String> {
        if let Some(arn) = &self.state_machine {
            return Ok(arn.clone());
        }
        if let (None, Some(stack)) = (&self.endpoint, &self.stack_name)
            && let Some(arn) = self.stack_output(stack, "StateMachineArn").await?
        {
            return Ok(arn);
        }
        let mut pages = self.sfn.list_state_machines().into_paginator().send();
        let mut machines = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| {
                self.explain(error, "states:ListStateMachines", "list state machines")
            })?;
            machines.extend(
                page.state_machines()
                    .iter()
                    .map(|machine| machine.state_machine_arn().to_owned()),
            );
        }
        let stack_hint = match (&self.endpoint, &self.stack_name) {
            (None, None) => " (or --stack-name NAME to use that stack's StateMachineArn output)",
            _ => "",
        };
        match machines.as_slice() {
            [only] => Ok(only.clone()),
            [] => match &self.endpoint {
                Some(endpoint) => bail!(
                    "no state machine at {endpoint}: local mode creates one from template.yaml \
                     when it starts; is --endpoint-url the address `hitl local` printed?"
                ),
                None => bail!(
                    "no state machine found in {}: deploy the stack (sam deploy --guided), \
                     check --region, or pass --state-machine ARN",
                    self.region()
                ),
            },
            many => bail!(
                "{} state machines found, and hitl cannot tell which one runs the reviews: \
                 pass --state-machine with one of: {}{stack_hint}",
                many.len(),
                many.join(", ")
            ),
        }
    }

    fn region(&self) -> String {
        self.config
            .region()
            .map_or_else(|| "this region".to_owned(), |region| region.to_string())
    }

    /// The review topic `hitl check` inspects: the `ReviewTopicArn` output of the stack
    /// (AWS), else the only topic named after the template's `ReviewTopic` (local mode
    /// names topics `STACK-ReviewTopic-SUFFIX`, as CloudFormation does). With several
    /// such topics (two stacks in one region) it says which stack or topic to name.
    pub(crate) async fn review_topic(&self, sns: &aws_sdk_sns::Client) -> Result<String> {
        if let (None, Some(stack)) = (&self.endpoint, &self.stack_name) {
            return self
                .stack_output(stack, "ReviewTopicArn")
                .await?
                .ok_or_else(|| {
                    anyhow!(
                        "stack {stack} has no ReviewTopicArn output: is it this project's stack? \
                     Pass --stack-name with the name you deployed, or --topic-arn ARN"
                    )
                });
        }
        let mut pages = sns.list_topics().into_paginator().send();
        let mut review_topics = Vec::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|error| self.explain(error, "sns:ListTopics", "list topics"))?;
            review_topics.extend(
                page.topics()
                    .iter()
                    .filter_map(|topic| topic.topic_arn())
                    .filter(|arn| is_review_topic(arn))
                    .map(str::to_owned),
            );
        }
        let name_it = match &self.endpoint {
            Some(_) => "pass --topic-arn ARN",
            None => {
                "name the stack (--stack-name NAME, or stack_name in samconfig.toml) so hitl \
                 reads its ReviewTopicArn output, or pass --topic-arn ARN"
            }
        };
        match review_topics.as_slice() {
            [only] => Ok(only.clone()),
            [] => bail!(
                "no review topic found (no topic named after ReviewTopic{}): {name_it}",
                match &self.endpoint {
                    Some(endpoint) => format!(" at {endpoint}"),
                    None => format!(" in {}", self.region()),
                }
            ),
            many => bail!(
                "{} review topics found ({}), one per stack: {name_it}",
                many.len(),
                many.join(", ")
            ),
        }
    }

    /// A CloudFormation stack output, or `None` when the stack has no such output.
    pub(crate) async fn stack_output(&self, stack: &str, key: &str) -> Result<Option<String>> {
        let stacks = self
            .describe_stack(
                stack,
                "outputs",
                "pass --stack-name with the name you deployed (default: stack_name in \
                 samconfig.toml)",
            )
            .await?;
        Ok(stacks
            .iter()
            .flat_map(|stack| stack.outputs())
            .find(|output| output.output_key() == Some(key))
            .and_then(|output| output.output_value().map(str::to_owned)))
    }

    /// `DescribeStacks` for `stack`; an error says what could not be read (`what`: the
    /// stack's outputs or parameters) and what to do instead (`instead`).
    async fn describe_stack(
        &self,
        stack: &str,
        what: &str,
        instead: &str,
    ) -> Result<Vec<aws_sdk_cloudformation::types::Stack>> {
        let client = aws_sdk_cloudformation::Client::new(&self.config);
        let described = client
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .map_err(|error| {
                let explained = self.explain(
                    error,
                    "cloudformation:DescribeStacks",
                    &format!("read the {what} of stack {stack}"),
                );
                anyhow!("{explained}; {instead}")
            })?;
        Ok(described.stacks.unwrap_or_default())
    }

    /// The deployed stack's reviewers: (`ReviewerEmails` or `ReviewerEmail`, its value),
    /// read from CloudFormation when a stack is named and no endpoint is given; `None`
    /// in local mode or without a stack (local mode has no CloudFormation).
    pub(crate) async fn stack_reviewers(&self) -> Result<Option<(String, String)>> {
        let (None, Some(stack)) = (&self.endpoint, &self.stack_name) else {
            return Ok(None);
        };
        let stacks = self
            .describe_stack(
                stack,
                "parameters",
                "pass --reviewers a@example.com,b@example.com instead",
            )
            .await?;
        let parameters: Vec<(String, String)> = stacks
            .iter()
            .flat_map(|stack| stack.parameters())
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value()?.to_owned(),
                ))
            })
            .collect();
        Ok(["ReviewerEmails", "ReviewerEmail"].iter().find_map(|key| {
            parameters
                .iter()
                .find(|(k, v)| k == key && !v.trim().is_empty())
                .cloned()
        }))
    }

    /// The ARN of an execution given by name or ARN.
    pub(crate) async fn execution_arn(&self, execution: &str) -> Result<String> {
        if execution.starts_with("arn:") {
            return Ok(execution.to_owned());
        }
        let machine = self.state_machine().await?;
        execution_arn(&machine, execution)
    }

    /// Turns an SDK error into one that says what to do. `action` is the IAM action
    /// of the call (`states:StartExecution`), so a denial names what to ask for.
    pub(crate) fn explain<E>(&self, error: SdkError<E>, action: &str, doing: &str) -> anyhow::Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let where_ = self.endpoint.as_deref().unwrap_or("AWS");
        let detail = aws_sdk_sfn::error::DisplayErrorContext(&error).to_string();
        if !matches!(error, SdkError::ServiceError(_)) && detail.contains("credentials") {
            return anyhow!(
                "cannot {doing}: no AWS credentials: configure them (aws configure, or \
                 AWS_PROFILE), or use --endpoint-url http://127.0.0.1:8083 for local mode"
            );
        }
        match &error {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => match &self.endpoint {
                Some(endpoint) => anyhow!(
                    "cannot {doing}: nothing answers at {endpoint}; is local mode running? \
                     (cargo run -p hitl -- local)"
                ),
                None => {
                    anyhow!("cannot {doing}: AWS did not answer; check your network and --region")
                }
            },
            SdkError::ServiceError(service) => {
                let Some(code) = error.code() else {
                    // Not an AWS error document: something other than the service answered.
                    return anyhow!(
                        "cannot {doing}: {where_} answered HTTP {} but not as {}: {}",
                        service.raw().status().as_u16(),
                        service_name(action),
                        match &self.endpoint {
                            Some(_) =>
                                "is --endpoint-url (or AWS_ENDPOINT_URL) the address \
                                        `hitl local` printed?",
                            None => "check --region and your network (a proxy?)",
                        }
                    );
                };
                let message = error.message().unwrap_or("");
                let fix = match code {
                    "UnrecognizedClientException"
                    | "InvalidClientTokenId"
                    | "InvalidSignatureException" => {
                        " (your AWS credentials are not valid here: check the profile and region)"
                            .to_owned()
                    }
                    "ExpiredToken" | "ExpiredTokenException" => {
                        " (your AWS session expired: log in again)".to_owned()
                    }
                    "AccessDeniedException" | "AccessDenied" | "AuthorizationError" => format!(
                        " (your IAM identity may not call {action} ({}): ask for {action} {})",
                        service_name(action),
                        resource_of(action)
                    ),
                    "StateMachineDoesNotExist" => {
                        " (check --state-machine and --region)".to_owned()
                    }
                    "ExecutionAlreadyExists" => {
                        " (an execution already has this name: pick another --name, or leave \
                         it out for a generated one)"
                            .to_owned()
                    }
                    "ExecutionDoesNotExist" => {
                        " (check the execution name with `hitl pending` or --state-machine)"
                            .to_owned()
                    }
                    _ => String::new(),
                };
                anyhow!("cannot {doing}: {code} from {where_}: {message}{fix}")
            }
            _ => anyhow!("cannot {doing}: {detail}"),
        }
    }
}

/// The service an IAM action belongs to, as people name it.
fn service_name(action: &str) -> &str {
    match action.split_once(':').map_or(action, |(prefix, _)| prefix) {
        "states" => "Step Functions",
        "sns" => "SNS",
        "cloudformation" => "CloudFormation",
        other => other,
    }
}

/// Which resource a policy must allow `action` on (Service Authorization Reference:
/// "Actions, resources, and condition keys" for Step Functions, SNS and CloudFormation;
/// an action without a resource type takes only `Resource: "*"`).
fn resource_of(action: &str) -> &'static str {
    match action {
        "states:StartExecution" | "states:ListExecutions" => "on the state machine",
        "states:DescribeExecution" | "states:GetExecutionHistory" | "states:StopExecution" => {
            "on the state machine's executions (arn:...:execution:MACHINE:*)"
        }
        "states:SendTaskSuccess" | "states:ListStateMachines" | "sns:ListTopics" => {
            "with Resource \"*\" (it takes no other resource)"
        }
        "sns:ListSubscriptionsByTopic" => "on the review topic",
        "cloudformation:DescribeStacks" => "on the stack",
        _ => "",
    }
}

/// Whether a topic ARN names the template's `ReviewTopic`: `ReviewTopic` itself, or the
/// `STACK-ReviewTopic-SUFFIX` name CloudFormation (and local mode) gives it.
fn is_review_topic(arn: &str) -> bool {
    let name = arn.rsplit(':').next().unwrap_or(arn);
    name == "ReviewTopic" || name.contains("-ReviewTopic-")
}

/// `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME` + execution name
/// → `arn:PARTITION:states:REGION:ACCOUNT:execution:NAME:EXECUTION`.
pub(crate) fn execution_arn(state_machine: &str, execution: &str) -> Result<String> {
    let parts: Vec<&str> = state_machine.splitn(7, ':').collect();
    match parts.as_slice() {
        [
            arn,
            partition,
            "states",
            region,
            account,
            "stateMachine",
            name,
        ] => Ok(format!(
            "{arn}:{partition}:states:{region}:{account}:execution:{name}:{execution}"
        )),
        _ => bail!(
            "{state_machine} is not a state machine ARN: pass --state-machine arn:aws:states:...:stateMachine:NAME"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samconfig_gives_stack_name_and_region() {
        let config = SamConfig::parse(
            "version = 0.1\n[default.global.parameters]\nstack_name = \"review\"\n\
             [default.deploy.parameters]\nregion = \"eu-west-1\"\n",
        )
        .unwrap();
        assert_eq!(
            config,
            SamConfig {
                stack_name: Some("review".into()),
                region: Some("eu-west-1".into())
            }
        );
    }

    #[test]
    fn the_repository_samconfig_names_the_stack() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samconfig.toml");
        assert_eq!(
            SamConfig::read(&path).unwrap().stack_name.as_deref(),
            Some("human-review")
        );
    }

    #[test]
    fn execution_arns_derive_from_the_state_machine() {
        assert_eq!(
            execution_arn("arn:aws:states:us-east-1:123:stateMachine:Review", "run-1").unwrap(),
            "arn:aws:states:us-east-1:123:execution:Review:run-1"
        );
        assert!(execution_arn("arn:aws:sns:us-east-1:123:topic", "x").is_err());
    }

    #[test]
    fn review_topics_are_known_by_their_logical_id() {
        assert!(is_review_topic(
            "arn:aws:sns:us-east-1:123456789012:human-review-ReviewTopic-AbC123"
        ));
        assert!(is_review_topic(
            "arn:aws:sns:us-east-1:123456789012:ReviewTopic"
        ));
        assert!(!is_review_topic(
            "arn:aws:sns:us-east-1:123456789012:human-review-DecisionTopic-AbC123"
        ));
        assert!(!is_review_topic("arn:aws:sns:us-east-1:123:MyReviewTopics"));
    }

    #[test]
    fn a_denial_names_the_service_and_what_to_allow() {
        assert_eq!(service_name("sns:ListSubscriptionsByTopic"), "SNS");
        assert_eq!(
            service_name("cloudformation:DescribeStacks"),
            "CloudFormation"
        );
        assert_eq!(service_name("states:StartExecution"), "Step Functions");
        assert_eq!(
            resource_of("states:SendTaskSuccess"),
            "with Resource \"*\" (it takes no other resource)"
        );
        assert_eq!(
            resource_of("sns:ListSubscriptionsByTopic"),
            "on the review topic"
        );
    }
}
