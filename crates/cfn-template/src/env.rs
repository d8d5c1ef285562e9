//! Where the stack "runs" locally: the values of the pseudo parameters
//! (`AWS::Region`, `AWS::AccountId`, ...) and how generated physical names
//! are made deterministic.

/// The account id local mode uses unless told otherwise. It is the one the
/// AWS documentation uses in its examples (and the one this repo's events and
/// tests use), so a local ARN is recognisably fake.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// The region local mode uses unless told otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The base URL an `AWS::Serverless::HttpApi` resolves to unless told otherwise.
pub const DEFAULT_HTTP_API_URL: &str = "http://127.0.0.1:3000";

/// The values local mode gives the pseudo parameters, and the local
/// endpoints that some attributes resolve to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LocalEnvironment {
    /// `AWS::Region`. Default [`DEFAULT_REGION`].
    pub region: String,
    /// `AWS::AccountId`. Default [`DEFAULT_ACCOUNT_ID`].
    pub account_id: String,
    /// `AWS::Partition`. Default `aws`.
    pub partition: String,
    /// `AWS::StackName`; also seeds the generated physical names.
    pub stack_name: String,
    /// `AWS::URLSuffix`. Default `amazonaws.com`.
    pub url_suffix: String,
    /// `AWS::NotificationARNs`. Default empty.
    pub notification_arns: Vec<String>,
    /// What `!GetAtt <HttpApi>.ApiEndpoint` resolves to: the local API
    /// server's base URL, without a trailing slash. Default [`DEFAULT_HTTP_API_URL`].
    pub http_api_url: String,
}

impl LocalEnvironment {
    /// The defaults for a stack called `stack_name`.
    pub fn new(stack_name: impl Into<String>) -> Self {
        LocalEnvironment {
            region: DEFAULT_REGION.to_owned(),
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            partition: "aws".to_owned(),
            stack_name: stack_name.into(),
            url_suffix: "amazonaws.com".to_owned(),
            notification_arns: Vec::new(),
            http_api_url: DEFAULT_HTTP_API_URL.to_owned(),
        }
    }

    /// Sets the region (builder style).
    #[must_use]
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// Sets the account id (builder style).
    #[must_use]
    pub fn with_account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = account_id.into();
        self
    }

    /// Sets the local HTTP API base URL (builder style).
    #[must_use]
    pub fn with_http_api_url(mut self, url: impl Into<String>) -> Self {
        self.http_api_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// `AWS::StackId`: a stack ARN whose id part is derived from the stack
    /// name, so it is the same on every start.
    pub fn stack_id(&self) -> String {
        let h = fnv1a(self.stack_name.as_bytes());
        format!(
            "arn:{}:cloudformation:{}:{}:stack/{}/{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            self.partition,
            self.region,
            self.account_id,
            self.stack_name,
            (h >> 32) as u32,
            (h >> 16) as u16,
            h as u16,
            (h >> 48) as u16,
            h & 0xffff_ffff_ffff
        )
    }

    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:rest`.
    pub(crate) fn arn(&self, service: &str, rest: &str) -> String {
        format!(
            "arn:{}:{}:{}:{}:{}",
            self.partition, service, self.region, self.account_id, rest
        )
    }

    /// An ARN of a global service (IAM): no region.
    pub(crate) fn global_arn(&self, service: &str, rest: &str) -> String {
        format!(
            "arn:{}:{}::{}:{}",
            self.partition, service, self.account_id, rest
        )
    }

    /// The 12-character suffix CloudFormation appends to generated names
    /// (`stack-LogicalId-AbCdEf123456`), derived from the stack name and the
    /// logical id so that a restart gets the same names and ARNs.
    pub(crate) fn suffix(&self, logical_id: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut h = fnv1a(format!("{}/{}", self.stack_name, logical_id).as_bytes());
        let mut out = String::with_capacity(12);
        for _ in 0..12 {
            let i = (h % ALPHABET.len() as u64) as usize;
            out.push(char::from(ALPHABET[i]));
            h /= ALPHABET.len() as u64;
            if h == 0 {
                h = fnv1a(out.as_bytes());
            }
        }
        out
    }

    /// A generated physical name `STACK-LogicalId-SUFFIX`, cut to `max_len`
    /// (CloudFormation shortens the stack and logical-id parts the same way).
    pub(crate) fn generated_name(&self, logical_id: &str, max_len: usize) -> String {
        let suffix = self.suffix(logical_id);
        let room = max_len.saturating_sub(suffix.len() + 2);
        let stack_room = room / 2;
        let stack: String = self.stack_name.chars().take(stack_room).collect();
        let logical: String = logical_id
            .chars()
            .take(room.saturating_sub(stack.chars().count()))
            .collect();
        if stack.is_empty() {
            format!("{logical}-{suffix}")
        } else {
            format!("{stack}-{logical}-{suffix}")
        }
    }
}

impl Default for LocalEnvironment {
    /// The defaults with the stack name `local`.
    fn default() -> Self {
        LocalEnvironment::new("local")
    }
}

/// FNV-1a, 64 bit. Used instead of `DefaultHasher`, whose output may change
/// between Rust releases: generated names must stay the same across builds.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_is_deterministic_and_per_resource() {
        let env = LocalEnvironment::new("human-review");
        assert_eq!(env.suffix("A"), env.suffix("A"));
        assert_ne!(env.suffix("A"), env.suffix("B"));
        assert_eq!(env.suffix("A").len(), 12);
        assert!(env.suffix("A").chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(LocalEnvironment::new("other").suffix("A"), env.suffix("A"));
    }

    #[test]
    fn generated_name_fits() {
        let env = LocalEnvironment::new("human-review");
        let name = env.generated_name("ProcessApprovalFunction", 64);
        assert!(name.starts_with("human-review-ProcessApprovalFunction-"));
        let long = LocalEnvironment::new("x".repeat(80)).generated_name(&"L".repeat(80), 64);
        assert_eq!(long.len(), 64);
    }

    #[test]
    fn stack_id_is_an_arn() {
        let env = LocalEnvironment::new("s");
        assert!(
            env.stack_id()
                .starts_with("arn:aws:cloudformation:us-east-1:123456789012:stack/s/")
        );
        assert_eq!(env.stack_id(), env.stack_id());
    }
}
