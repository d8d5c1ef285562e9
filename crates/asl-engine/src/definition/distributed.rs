//! A distributed Map's `ItemReader` and `ResultWriter`, parsed and validated.
//!
//! What AWS accepts (developer guide, "ItemReader (Map)" and "ResultWriter (Map)";
//! behaviour at run time is in `crate::interp::reader`):
//! * `ItemReader.Resource`: `arn:aws:states:::s3:getObject` (one object, decoded by
//!   `ReaderConfig.InputType`) or `arn:aws:states:::s3:listObjectsV2` (the objects of a
//!   bucket and prefix, one item each, no `InputType`). `Parameters` (JSONPath) or
//!   `Arguments` (JSONata) name `Bucket` and `Key` / `Prefix`.
//! * `ReaderConfig`: `InputType` one of `CSV`, `JSON`, `JSONL`, `MANIFEST`, `PARQUET`
//!   (PARQUET is refused here: sfn-local does not decode Parquet);
//!   `CSVHeaderLocation` `FIRST_ROW` (default) or `GIVEN` with `CSVHeaders` (a list of
//!   strings, required with GIVEN); `CSVDelimiter` `COMMA` (default), `PIPE`,
//!   `SEMICOLON`, `SPACE`, `TAB`; `MaxItems` (an integer from 0 to 100,000,000,
//!   LocalStack's AWS-validated `test_map_item_reader_csv_max_items` notes the linter
//!   range; 0 means no limit) or `MaxItemsPath`, or in JSONata a `MaxItems` expression.
//! * `ResultWriter`: `Resource` `arn:aws:states:::s3:putObject` with `Parameters`
//!   (`Arguments`) `Bucket` and `Prefix`, and/or `WriterConfig` with `Transformation`
//!   (`NONE`, `COMPACT`, `FLATTEN`) and `OutputType` (`JSON`, `JSONL`). It may not be
//!   empty: `WriterConfig` alone formats the state output without exporting.
//! * Both only in `ProcessorConfig.Mode: DISTRIBUTED`.
//! * `Label`: at most 40 characters, not empty, none of ` ?*<>{}[]:;,\|^~$#%&`"` nor a
//!   control character (LocalStack's AWS recordings `test_sfn_api_map_run`
//!   `test_map_state_label_*_fail`; sfn-local reports them as schema errors).
//!
//! The validation messages AWS gives for these fields are not recorded anywhere we could
//! read; the ones here follow the wording of AWS's other schema messages.

use asl_eval::jsonata::Payload;
use asl_eval::template::Template;
use serde_json::{Map, Value};

use super::parser::Parser;
use super::{ItemBatcher, NumOrPath};

/// What an `ItemReader` asks S3 for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderSource {
    GetObject,
    ListObjectsV2,
}

/// How an object read with `getObject` becomes items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    Csv,
    Json,
    Jsonl,
    Manifest,
}

/// A distributed Map's `ItemReader`.
#[derive(Debug, Clone)]
pub struct ItemReader {
    pub source: ReaderSource,
    /// JSONPath `Parameters`.
    pub parameters: Option<Template>,
    /// JSONata `Arguments`.
    pub arguments: Option<Payload>,
    /// `None` for listObjectsV2.
    pub input_type: Option<InputType>,
    /// `CSVHeaders` when `CSVHeaderLocation` is `GIVEN`; `None` reads the first row.
    pub csv_headers: Option<Vec<String>>,
    pub csv_delimiter: u8,
    pub max_items: Option<NumOrPath>,
}

/// How child results are shaped (`WriterConfig.Transformation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transformation {
    /// Each result with its execution's metadata (the default when exporting).
    None,
    /// The outputs only (the default without a ResultWriter).
    Compact,
    /// The outputs, arrays flattened one level.
    Flatten,
}

/// A distributed Map's `ResultWriter`.
#[derive(Debug, Clone)]
pub struct ResultWriter {
    /// `Resource` was given: the results go to S3.
    pub exports: bool,
    pub parameters: Option<Template>,
    pub arguments: Option<Payload>,
    pub transformation: Transformation,
    /// `OutputType: JSONL`: one result per line instead of a JSON array.
    pub jsonl: bool,
}

const READER_FIELDS: &[&str] = &["Resource", "Parameters", "Arguments", "ReaderConfig"];
const READER_CONFIG_FIELDS: &[&str] = &[
    "InputType",
    "CSVHeaderLocation",
    "CSVHeaders",
    "CSVDelimiter",
    "MaxItems",
    "MaxItemsPath",
    "ItemsPointer",
];
const WRITER_FIELDS: &[&str] = &["Resource", "Parameters", "Arguments", "WriterConfig"];
const BATCHER_FIELDS: &[&str] = &[
    "MaxItemsPerBatch",
    "MaxItemsPerBatchPath",
    "MaxInputBytesPerBatch",
    "MaxInputBytesPerBatchPath",
    "BatchInput",
];

/// The largest `MaxItems` AWS accepts: a distributed Map reads no more items.
pub const MAX_ITEMS_LIMIT: f64 = 100_000_000.0;

impl Parser {
    /// `ItemBatcher`, when present.
    pub(super) fn item_batcher(
        &mut self,
        obj: &Map<String, Value>,
        jsonata: bool,
        at: &str,
    ) -> Option<ItemBatcher> {
        let (b, at) = self.sub_object(obj, "ItemBatcher", BATCHER_FIELDS, at)?;
        let max_items_per_batch = self.num_or_path(b, "MaxItemsPerBatch", &at, true);
        self.at_least(&max_items_per_batch, "MaxItemsPerBatch", 1.0, &at);
        let max_input_bytes_per_batch = self.num_or_path(b, "MaxInputBytesPerBatch", &at, true);
        self.at_least(
            &max_input_bytes_per_batch,
            "MaxInputBytesPerBatch",
            1.0,
            &at,
        );
        Some(ItemBatcher {
            max_items_per_batch,
            max_input_bytes_per_batch,
            batch_input: if jsonata {
                None
            } else {
                self.template(b, "BatchInput", &at)
            },
            batch_input_jsonata: if jsonata {
                self.payload(b, "BatchInput", &at)
            } else {
                None
            },
        })
    }

    /// `ItemReader`, when present.
    pub(super) fn item_reader(
        &mut self,
        obj: &Map<String, Value>,
        jsonata: bool,
        at: &str,
    ) -> Option<ItemReader> {
        let (r, at) = self.sub_object(obj, "ItemReader", READER_FIELDS, at)?;
        let source = match r.get("Resource").and_then(Value::as_str) {
            Some("arn:aws:states:::s3:getObject") => ReaderSource::GetObject,
            Some("arn:aws:states:::s3:listObjectsV2") => ReaderSource::ListObjectsV2,
            Some(other) => {
                self.schema(
                    format!("The resource '{other}' is not supported for ItemReader; use arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2"),
                    &format!("{at}/Resource"),
                );
                return None;
            }
            None => {
                self.schema("The field 'Resource' should be non-null", &at);
                return None;
            }
        };
        let (parameters, arguments) = self.s3_arguments(r, jsonata, &at);
        let empty = Map::new();
        let cfg = match r.get("ReaderConfig") {
            None => &empty,
            Some(Value::Object(c)) => c,
            Some(_) => {
                self.schema(
                    "The value for the field 'ReaderConfig' must be an OBJECT",
                    &format!("{at}/ReaderConfig"),
                );
                &empty
            }
        };
        let cat = format!("{at}/ReaderConfig");
        self.only_fields(cfg, READER_CONFIG_FIELDS, &cat);
        if cfg.contains_key("ItemsPointer") {
            self.unsupported_here("ItemsPointer", "items inside a JSON object", &cat);
        }
        let input_type = match (source, cfg.get("InputType").and_then(Value::as_str)) {
            (_, Some("CSV")) => Some(InputType::Csv),
            (_, Some("JSON")) => Some(InputType::Json),
            (_, Some("JSONL")) => Some(InputType::Jsonl),
            (_, Some("MANIFEST")) => Some(InputType::Manifest),
            (_, Some("PARQUET")) => {
                self.unsupported_here("InputType: PARQUET", "Parquet item sources", &cat);
                None
            }
            (_, Some(_)) => {
                self.schema(
                    "The value for the field 'InputType' must be one of [CSV, JSON, JSONL, MANIFEST, PARQUET]",
                    &format!("{cat}/InputType"),
                );
                None
            }
            (ReaderSource::GetObject, None) => {
                self.schema(
                    "The field 'InputType' should be non-null when reading an object with s3:getObject",
                    &cat,
                );
                None
            }
            (ReaderSource::ListObjectsV2, None) => None,
        };
        let csv_headers = match cfg.get("CSVHeaderLocation").and_then(Value::as_str) {
            None | Some("FIRST_ROW") => None,
            Some("GIVEN") => match cfg.get("CSVHeaders") {
                Some(Value::Array(hs)) if hs.iter().all(Value::is_string) => Some(
                    hs.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                ),
                _ => {
                    self.schema(
                        "The field 'CSVHeaders' should be a list of strings when 'CSVHeaderLocation' is GIVEN",
                        &cat,
                    );
                    None
                }
            },
            Some(_) => {
                self.schema(
                    "The value for the field 'CSVHeaderLocation' must be one of [FIRST_ROW, GIVEN]",
                    &format!("{cat}/CSVHeaderLocation"),
                );
                None
            }
        };
        let csv_delimiter = match cfg.get("CSVDelimiter").and_then(Value::as_str) {
            None | Some("COMMA") => b',',
            Some("PIPE") => b'|',
            Some("SEMICOLON") => b';',
            Some("SPACE") => b' ',
            Some("TAB") => b'\t',
            Some(_) => {
                self.schema(
                    "The value for the field 'CSVDelimiter' must be one of [COMMA, PIPE, SEMICOLON, SPACE, TAB]",
                    &format!("{cat}/CSVDelimiter"),
                );
                b','
            }
        };
        let max_items = self.num_or_path(cfg, "MaxItems", &cat, true);
        self.at_least(&max_items, "MaxItems", 0.0, &cat);
        if let Some(NumOrPath::Literal(n)) = &max_items
            && *n > MAX_ITEMS_LIMIT
        {
            self.schema(
                "The value for the field 'MaxItems' must be <= 100000000",
                &format!("{cat}/MaxItems"),
            );
        }
        Some(ItemReader {
            source,
            parameters,
            arguments,
            input_type,
            csv_headers,
            csv_delimiter,
            max_items,
        })
    }

    /// `ResultWriter`, when present.
    pub(super) fn result_writer(
        &mut self,
        obj: &Map<String, Value>,
        jsonata: bool,
        at: &str,
    ) -> Option<ResultWriter> {
        let (w, at) = self.sub_object(obj, "ResultWriter", WRITER_FIELDS, at)?;
        let exports = match w.get("Resource").and_then(Value::as_str) {
            Some("arn:aws:states:::s3:putObject") => true,
            Some(other) => {
                self.schema(
                    format!("The resource '{other}' is not supported for ResultWriter; use arn:aws:states:::s3:putObject"),
                    &format!("{at}/Resource"),
                );
                return None;
            }
            None => false,
        };
        let (parameters, arguments) = self.s3_arguments(w, jsonata, &at);
        let cfg = w.get("WriterConfig").and_then(Value::as_object);
        if !exports && cfg.is_none() {
            self.schema(
                "The field 'ResultWriter' must name a 'Resource' with 'Parameters', a 'WriterConfig', or both",
                &at,
            );
            return None;
        }
        if exports && parameters.is_none() && arguments.is_none() {
            let key = if jsonata { "Arguments" } else { "Parameters" };
            self.schema(format!("The field '{key}' should be non-null"), &at);
        }
        let cat = format!("{at}/WriterConfig");
        let transformation = match cfg
            .and_then(|c| c.get("Transformation"))
            .and_then(Value::as_str)
        {
            None if exports => Transformation::None,
            None => Transformation::Compact,
            Some("NONE") => Transformation::None,
            Some("COMPACT") => Transformation::Compact,
            Some("FLATTEN") => Transformation::Flatten,
            Some(_) => {
                self.schema(
                    "The value for the field 'Transformation' must be one of [NONE, COMPACT, FLATTEN]",
                    &format!("{cat}/Transformation"),
                );
                Transformation::None
            }
        };
        let jsonl = match cfg
            .and_then(|c| c.get("OutputType"))
            .and_then(Value::as_str)
        {
            None | Some("JSON") => false,
            Some("JSONL") => true,
            Some(_) => {
                self.schema(
                    "The value for the field 'OutputType' must be one of [JSON, JSONL]",
                    &format!("{cat}/OutputType"),
                );
                false
            }
        };
        Some(ResultWriter {
            exports,
            parameters,
            arguments,
            transformation,
            jsonl,
        })
    }

    /// `Parameters` (JSONPath) or `Arguments` (JSONata) of a reader or writer.
    fn s3_arguments(
        &mut self,
        obj: &Map<String, Value>,
        jsonata: bool,
        at: &str,
    ) -> (Option<Template>, Option<Payload>) {
        match (
            jsonata,
            obj.contains_key("Parameters"),
            obj.contains_key("Arguments"),
        ) {
            (false, _, true) => {
                self.schema(
                    "Field 'Arguments' is not supported in a Map state using JSONPath",
                    at,
                );
                (None, None)
            }
            (true, true, _) => {
                self.schema(
                    "Field 'Parameters' is not supported in a Map state using JSONata",
                    at,
                );
                (None, None)
            }
            (false, ..) => (self.template(obj, "Parameters", at), None),
            (true, ..) => (None, self.payload(obj, "Arguments", at)),
        }
    }

    /// The object in field `key` of `obj` and its location, with every field not in
    /// `allowed` refused; `None` when absent, or (refused) when not an object.
    fn sub_object<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        allowed: &[&str],
        at: &str,
    ) -> Option<(&'v Map<String, Value>, String)> {
        let v = obj.get(key)?;
        let at = format!("{at}/{key}");
        let Some(o) = v.as_object() else {
            self.schema(
                format!("The value for the field '{key}' must be an OBJECT"),
                &at,
            );
            return None;
        };
        self.only_fields(o, allowed, &at);
        Some((o, at))
    }

    fn only_fields(&mut self, obj: &Map<String, Value>, allowed: &[&str], at: &str) {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                self.schema(format!("Field '{k}' is not supported"), at);
            }
        }
    }

    /// AWS's Label rules (see the module doc).
    pub(super) fn check_label(&mut self, label: &str, at: &str) {
        let at = format!("{at}/Label");
        if label.is_empty() {
            self.schema("Label cannot be empty", &at);
        } else if label.chars().count() > 40 {
            self.schema("Label cannot exceed 40 characters", &at);
        } else if let Some(c) = label.chars().find(|c| {
            " ?*<>{}[]:;,\\|^~$#%&`\"".contains(*c)
                || ('\u{0}'..='\u{1f}').contains(c)
                || ('\u{7f}'..='\u{9f}').contains(c)
        }) {
            self.schema(
                format!("Label contains invalid character: '{}'", c.escape_default()),
                &at,
            );
        }
    }
}
