//! What the catalog says a field holds: its type, whether it may be null, and how that reads in
//! TypeScript and in an error message. The one description both the validator and the
//! declarations are made from.

/// The shape of a field's value, as the catalog gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A uuid string (normalised to lower case).
    Uuid,
    /// An ISO 8601 timestamp with a UTC offset.
    Timestamp,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A number with no fractional part, within JavaScript's safe integers.
    Integer,
    /// Any finite number.
    Number,
    /// Any string.
    Text,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// An object of denomination → integer count (`Record<string, number>`).
    Counts,
    /// An array of records with these fields.
    Records(&'static [FieldSpec]),
}

/// A field's type and whether it may be `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldKind {
    /// The value's shape.
    pub ty: FieldType,
    /// `null` is allowed (and so is leaving the member out).
    pub nullable: bool,
}

impl FieldKind {
    /// A non-nullable field of this type.
    pub const fn of(ty: FieldType) -> Self {
        FieldKind {
            ty,
            nullable: false,
        }
    }

    /// A single value that can stand in a query key (not an object or array).
    pub fn is_scalar(&self) -> bool {
        !matches!(self.ty, FieldType::Counts | FieldType::Records(_))
    }

    /// The TypeScript type of the field.
    pub fn typescript(&self) -> String {
        let base = match self.ty {
            FieldType::Integer | FieldType::Number => "number".to_owned(),
            FieldType::Uuid | FieldType::Timestamp | FieldType::Date | FieldType::Text => {
                "string".to_owned()
            }
            FieldType::Enum(values) => values
                .iter()
                .map(|v| format!("\"{v}\""))
                .collect::<Vec<_>>()
                .join(" | "),
            FieldType::Counts => "Record<string, number>".to_owned(),
            FieldType::Records(fields) => {
                let members: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, f.kind.typescript()))
                    .collect();
                format!("Array<{{ {} }}>", members.join("; "))
            }
        };
        if self.nullable {
            format!("{base} | null")
        } else {
            base
        }
    }

    /// What the catalog wants, as a phrase for error messages.
    pub fn expected(&self) -> String {
        let base = match self.ty {
            FieldType::Uuid => "a uuid string",
            FieldType::Timestamp => "an ISO 8601 timestamp with a UTC offset",
            FieldType::Date => "a date (YYYY-MM-DD)",
            FieldType::Integer => "an integer",
            FieldType::Number => "a number",
            FieldType::Text => "a string",
            FieldType::Enum(values) => {
                let mut phrase = String::from("one of ");
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        phrase.push_str(", ");
                    }
                    phrase.push('"');
                    phrase.push_str(v);
                    phrase.push('"');
                }
                return self.or_null(phrase);
            }
            FieldType::Counts => "an object of integer counts",
            FieldType::Records(_) => "an array of objects",
        };
        self.or_null(base.to_owned())
    }

    fn or_null(&self, mut phrase: String) -> String {
        if self.nullable {
            phrase.push_str(" or null");
        }
        phrase
    }
}

/// A named field of a record, as the catalog lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The JSON member name.
    pub name: &'static str,
    /// Its type.
    pub kind: FieldKind,
}
