//! Country and US state names and codes, so a conversion's `country` fills its `countryCode`
//! and the other way round, and the same for `state` and `stateCode`.
//!
//! A built-in table rather than a crate: the ISO 3166 crates on crates.io name countries by
//! their official forms ("United States of America", "Korea, Republic of"), while a
//! notification reads "from Miami, United States", as the seed's own example has it. So the
//! names here are the common English short names, and the official forms are aliases.
//!
//! Matching ignores case, accents, dots, apostrophes, hyphens, a leading "the" and repeated
//! spaces, reads `&` as "and" and "St" as "Saint": "U.S.A.", "the netherlands", "Cote
//! d'Ivoire" and "St Lucia" all match. Pure data and lookups, no IO.

use std::collections::HashMap;
use std::sync::LazyLock;

/// ISO 3166-1 alpha-2 codes with common English short names, in code order, plus `XK`
/// (Kosovo), which has no ISO code yet but is in wide use.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("AD", "Andorra"),
    ("AE", "United Arab Emirates"),
    ("AF", "Afghanistan"),
    ("AG", "Antigua and Barbuda"),
    ("AI", "Anguilla"),
    ("AL", "Albania"),
    ("AM", "Armenia"),
    ("AO", "Angola"),
    ("AQ", "Antarctica"),
    ("AR", "Argentina"),
    ("AS", "American Samoa"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("AW", "Aruba"),
    ("AX", "Åland Islands"),
    ("AZ", "Azerbaijan"),
    ("BA", "Bosnia and Herzegovina"),
    ("BB", "Barbados"),
    ("BD", "Bangladesh"),
    ("BE", "Belgium"),
    ("BF", "Burkina Faso"),
    ("BG", "Bulgaria"),
    ("BH", "Bahrain"),
    ("BI", "Burundi"),
    ("BJ", "Benin"),
    ("BL", "Saint Barthélemy"),
    ("BM", "Bermuda"),
    ("BN", "Brunei"),
    ("BO", "Bolivia"),
    ("BQ", "Caribbean Netherlands"),
    ("BR", "Brazil"),
    ("BS", "Bahamas"),
    ("BT", "Bhutan"),
    ("BV", "Bouvet Island"),
    ("BW", "Botswana"),
    ("BY", "Belarus"),
    ("BZ", "Belize"),
    ("CA", "Canada"),
    ("CC", "Cocos (Keeling) Islands"),
    ("CD", "Democratic Republic of the Congo"),
    ("CF", "Central African Republic"),
    ("CG", "Republic of the Congo"),
    ("CH", "Switzerland"),
    ("CI", "Côte d'Ivoire"),
    ("CK", "Cook Islands"),
    ("CL", "Chile"),
    ("CM", "Cameroon"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CR", "Costa Rica"),
    ("CU", "Cuba"),
    ("CV", "Cape Verde"),
    ("CW", "Curaçao"),
    ("CX", "Christmas Island"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DJ", "Djibouti"),
    ("DK", "Denmark"),
    ("DM", "Dominica"),
    ("DO", "Dominican Republic"),
    ("DZ", "Algeria"),
    ("EC", "Ecuador"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("EH", "Western Sahara"),
    ("ER", "Eritrea"),
    ("ES", "Spain"),
    ("ET", "Ethiopia"),
    ("FI", "Finland"),
    ("FJ", "Fiji"),
    ("FK", "Falkland Islands"),
    ("FM", "Micronesia"),
    ("FO", "Faroe Islands"),
    ("FR", "France"),
    ("GA", "Gabon"),
    ("GB", "United Kingdom"),
    ("GD", "Grenada"),
    ("GE", "Georgia"),
    ("GF", "French Guiana"),
    ("GG", "Guernsey"),
    ("GH", "Ghana"),
    ("GI", "Gibraltar"),
    ("GL", "Greenland"),
    ("GM", "Gambia"),
    ("GN", "Guinea"),
    ("GP", "Guadeloupe"),
    ("GQ", "Equatorial Guinea"),
    ("GR", "Greece"),
    ("GS", "South Georgia and the South Sandwich Islands"),
    ("GT", "Guatemala"),
    ("GU", "Guam"),
    ("GW", "Guinea-Bissau"),
    ("GY", "Guyana"),
    ("HK", "Hong Kong"),
    ("HM", "Heard Island and McDonald Islands"),
    ("HN", "Honduras"),
    ("HR", "Croatia"),
    ("HT", "Haiti"),
    ("HU", "Hungary"),
    ("ID", "Indonesia"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IM", "Isle of Man"),
    ("IN", "India"),
    ("IO", "British Indian Ocean Territory"),
    ("IQ", "Iraq"),
    ("IR", "Iran"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JE", "Jersey"),
    ("JM", "Jamaica"),
    ("JO", "Jordan"),
    ("JP", "Japan"),
    ("KE", "Kenya"),
    ("KG", "Kyrgyzstan"),
    ("KH", "Cambodia"),
    ("KI", "Kiribati"),
    ("KM", "Comoros"),
    ("KN", "Saint Kitts and Nevis"),
    ("KP", "North Korea"),
    ("KR", "South Korea"),
    ("KW", "Kuwait"),
    ("KY", "Cayman Islands"),
    ("KZ", "Kazakhstan"),
    ("LA", "Laos"),
    ("LB", "Lebanon"),
    ("LC", "Saint Lucia"),
    ("LI", "Liechtenstein"),
    ("LK", "Sri Lanka"),
    ("LR", "Liberia"),
    ("LS", "Lesotho"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("LY", "Libya"),
    ("MA", "Morocco"),
    ("MC", "Monaco"),
    ("MD", "Moldova"),
    ("ME", "Montenegro"),
    ("MF", "Saint Martin"),
    ("MG", "Madagascar"),
    ("MH", "Marshall Islands"),
    ("MK", "North Macedonia"),
    ("ML", "Mali"),
    ("MM", "Myanmar"),
    ("MN", "Mongolia"),
    ("MO", "Macao"),
    ("MP", "Northern Mariana Islands"),
    ("MQ", "Martinique"),
    ("MR", "Mauritania"),
    ("MS", "Montserrat"),
    ("MT", "Malta"),
    ("MU", "Mauritius"),
    ("MV", "Maldives"),
    ("MW", "Malawi"),
    ("MX", "Mexico"),
    ("MY", "Malaysia"),
    ("MZ", "Mozambique"),
    ("NA", "Namibia"),
    ("NC", "New Caledonia"),
    ("NE", "Niger"),
    ("NF", "Norfolk Island"),
    ("NG", "Nigeria"),
    ("NI", "Nicaragua"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NP", "Nepal"),
    ("NR", "Nauru"),
    ("NU", "Niue"),
    ("NZ", "New Zealand"),
    ("OM", "Oman"),
    ("PA", "Panama"),
    ("PE", "Peru"),
    ("PF", "French Polynesia"),
    ("PG", "Papua New Guinea"),
    ("PH", "Philippines"),
    ("PK", "Pakistan"),
    ("PL", "Poland"),
    ("PM", "Saint Pierre and Miquelon"),
    ("PN", "Pitcairn Islands"),
    ("PR", "Puerto Rico"),
    ("PS", "Palestine"),
    ("PT", "Portugal"),
    ("PW", "Palau"),
    ("PY", "Paraguay"),
    ("QA", "Qatar"),
    ("RE", "Réunion"),
    ("RO", "Romania"),
    ("RS", "Serbia"),
    ("RU", "Russia"),
    ("RW", "Rwanda"),
    ("SA", "Saudi Arabia"),
    ("SB", "Solomon Islands"),
    ("SC", "Seychelles"),
    ("SD", "Sudan"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SH", "Saint Helena"),
    ("SI", "Slovenia"),
    ("SJ", "Svalbard and Jan Mayen"),
    ("SK", "Slovakia"),
    ("SL", "Sierra Leone"),
    ("SM", "San Marino"),
    ("SN", "Senegal"),
    ("SO", "Somalia"),
    ("SR", "Suriname"),
    ("SS", "South Sudan"),
    ("ST", "São Tomé and Príncipe"),
    ("SV", "El Salvador"),
    ("SX", "Sint Maarten"),
    ("SY", "Syria"),
    ("SZ", "Eswatini"),
    ("TC", "Turks and Caicos Islands"),
    ("TD", "Chad"),
    ("TF", "French Southern Territories"),
    ("TG", "Togo"),
    ("TH", "Thailand"),
    ("TJ", "Tajikistan"),
    ("TK", "Tokelau"),
    ("TL", "Timor-Leste"),
    ("TM", "Turkmenistan"),
    ("TN", "Tunisia"),
    ("TO", "Tonga"),
    ("TR", "Turkey"),
    ("TT", "Trinidad and Tobago"),
    ("TV", "Tuvalu"),
    ("TW", "Taiwan"),
    ("TZ", "Tanzania"),
    ("UA", "Ukraine"),
    ("UG", "Uganda"),
    ("UM", "United States Minor Outlying Islands"),
    ("US", "United States"),
    ("UY", "Uruguay"),
    ("UZ", "Uzbekistan"),
    ("VA", "Vatican City"),
    ("VC", "Saint Vincent and the Grenadines"),
    ("VE", "Venezuela"),
    ("VG", "British Virgin Islands"),
    ("VI", "U.S. Virgin Islands"),
    ("VN", "Vietnam"),
    ("VU", "Vanuatu"),
    ("WF", "Wallis and Futuna"),
    ("WS", "Samoa"),
    ("XK", "Kosovo"),
    ("YE", "Yemen"),
    ("YT", "Mayotte"),
    ("ZA", "South Africa"),
    ("ZM", "Zambia"),
    ("ZW", "Zimbabwe"),
];

/// Other names people and systems use, each with the code it means. Official ISO forms
/// first, then common ones.
const COUNTRY_ALIASES: &[(&str, &str)] = &[
    ("United States of America", "US"),
    ("USA", "US"),
    ("America", "US"),
    ("United Kingdom of Great Britain and Northern Ireland", "GB"),
    ("UK", "GB"),
    ("Great Britain", "GB"),
    ("Britain", "GB"),
    ("England", "GB"),
    ("Scotland", "GB"),
    ("Wales", "GB"),
    ("Northern Ireland", "GB"),
    ("UAE", "AE"),
    ("Bolivia (Plurinational State of)", "BO"),
    ("Plurinational State of Bolivia", "BO"),
    ("Bonaire, Sint Eustatius and Saba", "BQ"),
    ("Bonaire", "BQ"),
    ("Brunei Darussalam", "BN"),
    ("Cabo Verde", "CV"),
    ("Cocos Islands", "CC"),
    ("Congo, Democratic Republic of the", "CD"),
    ("DR Congo", "CD"),
    ("DRC", "CD"),
    ("Congo-Kinshasa", "CD"),
    ("Congo (Kinshasa)", "CD"),
    ("Zaire", "CD"),
    ("Congo", "CG"),
    ("Congo-Brazzaville", "CG"),
    ("Congo (Brazzaville)", "CG"),
    ("Ivory Coast", "CI"),
    ("Czech Republic", "CZ"),
    ("Falkland Islands (Malvinas)", "FK"),
    ("Micronesia (Federated States of)", "FM"),
    ("Federated States of Micronesia", "FM"),
    ("Hong Kong SAR", "HK"),
    ("Hong Kong SAR China", "HK"),
    ("Iran, Islamic Republic of", "IR"),
    ("Islamic Republic of Iran", "IR"),
    ("Korea, Democratic People's Republic of", "KP"),
    ("Democratic People's Republic of Korea", "KP"),
    ("DPRK", "KP"),
    ("Korea, Republic of", "KR"),
    ("Republic of Korea", "KR"),
    ("Korea", "KR"),
    ("Lao People's Democratic Republic", "LA"),
    ("Lao PDR", "LA"),
    ("Moldova, Republic of", "MD"),
    ("Republic of Moldova", "MD"),
    ("Macedonia", "MK"),
    ("Republic of North Macedonia", "MK"),
    ("The former Yugoslav Republic of Macedonia", "MK"),
    ("Burma", "MM"),
    ("Macau", "MO"),
    ("Macao SAR China", "MO"),
    ("Holland", "NL"),
    ("Netherlands, Kingdom of the", "NL"),
    ("Kingdom of the Netherlands", "NL"),
    ("Palestine, State of", "PS"),
    ("State of Palestine", "PS"),
    ("Palestinian Territories", "PS"),
    ("Russian Federation", "RU"),
    ("Saint Helena, Ascension and Tristan da Cunha", "SH"),
    ("Syrian Arab Republic", "SY"),
    ("Swaziland", "SZ"),
    ("East Timor", "TL"),
    ("Türkiye", "TR"),
    ("Taiwan, Province of China", "TW"),
    ("Tanzania, United Republic of", "TZ"),
    ("United Republic of Tanzania", "TZ"),
    ("Holy See", "VA"),
    ("Vatican", "VA"),
    ("Venezuela (Bolivarian Republic of)", "VE"),
    ("Bolivarian Republic of Venezuela", "VE"),
    ("Viet Nam", "VN"),
    ("Virgin Islands, British", "VG"),
    ("Virgin Islands (British)", "VG"),
    ("Virgin Islands, U.S.", "VI"),
    ("Virgin Islands (U.S.)", "VI"),
    ("US Virgin Islands", "VI"),
    ("U.S. Minor Outlying Islands", "UM"),
    ("US Outlying Islands", "UM"),
    ("South Georgia", "GS"),
    ("Saint Martin (French part)", "MF"),
    ("Sint Maarten (Dutch part)", "SX"),
    ("Pitcairn", "PN"),
    ("Heard and McDonald Islands", "HM"),
    ("Svalbard", "SJ"),
    ("Wallis and Futuna Islands", "WF"),
];

/// The 50 states and the District of Columbia, in code order.
pub const US_STATES: &[(&str, &str)] = &[
    ("AK", "Alaska"),
    ("AL", "Alabama"),
    ("AR", "Arkansas"),
    ("AZ", "Arizona"),
    ("CA", "California"),
    ("CO", "Colorado"),
    ("CT", "Connecticut"),
    ("DC", "District of Columbia"),
    ("DE", "Delaware"),
    ("FL", "Florida"),
    ("GA", "Georgia"),
    ("HI", "Hawaii"),
    ("IA", "Iowa"),
    ("ID", "Idaho"),
    ("IL", "Illinois"),
    ("IN", "Indiana"),
    ("KS", "Kansas"),
    ("KY", "Kentucky"),
    ("LA", "Louisiana"),
    ("MA", "Massachusetts"),
    ("MD", "Maryland"),
    ("ME", "Maine"),
    ("MI", "Michigan"),
    ("MN", "Minnesota"),
    ("MO", "Missouri"),
    ("MS", "Mississippi"),
    ("MT", "Montana"),
    ("NC", "North Carolina"),
    ("ND", "North Dakota"),
    ("NE", "Nebraska"),
    ("NH", "New Hampshire"),
    ("NJ", "New Jersey"),
    ("NM", "New Mexico"),
    ("NV", "Nevada"),
    ("NY", "New York"),
    ("OH", "Ohio"),
    ("OK", "Oklahoma"),
    ("OR", "Oregon"),
    ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"),
    ("SC", "South Carolina"),
    ("SD", "South Dakota"),
    ("TN", "Tennessee"),
    ("TX", "Texas"),
    ("UT", "Utah"),
    ("VA", "Virginia"),
    ("VT", "Vermont"),
    ("WA", "Washington"),
    ("WI", "Wisconsin"),
    ("WV", "West Virginia"),
    ("WY", "Wyoming"),
];

const US_STATE_ALIASES: &[(&str, &str)] = &[
    ("Washington DC", "DC"),
    ("Washington, DC", "DC"),
    ("Washington D.C.", "DC"),
    ("Washington, D.C.", "DC"),
];

/// A place with a code: a country or a US state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub code: &'static str,
    pub name: &'static str,
}

/// One table: by code, and by every normalised name and alias.
#[derive(Debug)]
struct Table {
    by_code: HashMap<&'static str, Place>,
    by_name: HashMap<String, Place>,
}

impl Table {
    fn new(places: &'static [(&'static str, &'static str)], aliases: &[(&str, &str)]) -> Self {
        let by_code: HashMap<&'static str, Place> = places
            .iter()
            .map(|&(code, name)| (code, Place { code, name }))
            .collect();
        let mut by_name: HashMap<String, Place> = by_code
            .values()
            .map(|&place| (normalize_name(place.name), place))
            .collect();
        for &(alias, code) in aliases {
            if let Some(&place) = by_code.get(code) {
                by_name.insert(normalize_name(alias), place);
            }
        }
        Self { by_code, by_name }
    }

    fn by_code(&self, code: &str) -> Option<Place> {
        let code = code.trim();
        if code.len() != 2 {
            return None;
        }
        self.by_code
            .get(code.to_ascii_uppercase().as_str())
            .copied()
    }

    fn by_name(&self, name: &str) -> Option<Place> {
        self.by_name.get(&normalize_name(name)).copied()
    }
}

static COUNTRY_TABLE: LazyLock<Table> = LazyLock::new(|| Table::new(COUNTRIES, COUNTRY_ALIASES));
static US_STATE_TABLE: LazyLock<Table> = LazyLock::new(|| Table::new(US_STATES, US_STATE_ALIASES));

/// The country with this alpha-2 code, in any case: `us` → United States.
pub fn country_by_code(code: &str) -> Option<Place> {
    COUNTRY_TABLE.by_code(code)
}

/// The country with this name or alias: `USA`, `the Netherlands`, `Korea, Republic of`.
pub fn country_by_name(name: &str) -> Option<Place> {
    COUNTRY_TABLE.by_name(name)
}

/// The US state (or DC) with this two-letter code, in any case.
pub fn us_state_by_code(code: &str) -> Option<Place> {
    US_STATE_TABLE.by_code(code)
}

/// The US state (or DC) with this name: `Florida`, `new york`, `Washington, D.C.`.
pub fn us_state_by_name(name: &str) -> Option<Place> {
    US_STATE_TABLE.by_name(name)
}

/// The matching key of a name, as the module's doc describes.
fn normalize_name(name: &str) -> String {
    let mut folded = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            '.' | '\'' | '’' => {}
            '-' | '_' | '–' => folded.push(' '),
            '&' => folded.push_str(" and "),
            _ => folded.push(fold_accent(c)),
        }
    }
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    if words.len() > 1 && words[0] == "the" {
        words.remove(0);
    }
    words
        .iter()
        .map(|&word| if word == "st" { "saint" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The unaccented letter of the accented Latin letters that country names use.
fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn tables_are_complete_sorted_and_unique() {
        assert_eq!(
            COUNTRIES.len(),
            249 + 1,
            "ISO 3166-1 has 249 codes, plus XK"
        );
        assert_eq!(US_STATES.len(), 51);
        for table in [COUNTRIES, US_STATES] {
            assert!(table.windows(2).all(|pair| pair[0].0 < pair[1].0));
            assert!(table.iter().all(|(code, _)| {
                code.len() == 2 && code.bytes().all(|byte| byte.is_ascii_uppercase())
            }));
            let names: HashSet<String> =
                table.iter().map(|(_, name)| normalize_name(name)).collect();
            assert_eq!(names.len(), table.len(), "two places share a name");
        }
        for (_, code) in COUNTRY_ALIASES {
            assert!(
                country_by_code(code).is_some(),
                "alias for unknown code {code}"
            );
        }
        for (_, code) in US_STATE_ALIASES {
            assert!(
                us_state_by_code(code).is_some(),
                "alias for unknown code {code}"
            );
        }
    }

    #[test]
    fn every_name_finds_its_own_code() {
        for &(code, name) in COUNTRIES {
            assert_eq!(
                country_by_name(name).map(|place| place.code),
                Some(code),
                "{name}"
            );
        }
        for &(code, name) in US_STATES {
            assert_eq!(
                us_state_by_name(name).map(|place| place.code),
                Some(code),
                "{name}"
            );
        }
    }

    #[test]
    fn countries() {
        let check = |name: &str, expected: Option<&str>| {
            assert_eq!(
                country_by_name(name).map(|place| place.code),
                expected,
                "{name}"
            );
        };
        check("United States", Some("US"));
        check("united states", Some("US"));
        check("  UNITED   STATES ", Some("US"));
        check("USA", Some("US"));
        check("U.S.A.", Some("US"));
        check("United States of America", Some("US"));
        check("the United States", Some("US"));
        check("UK", Some("GB"));
        check("U.K.", Some("GB"));
        check("Great Britain", Some("GB"));
        check("England", Some("GB"));
        check("The Netherlands", Some("NL"));
        check("Holland", Some("NL"));
        check("Cote d'Ivoire", Some("CI"));
        check("Côte d’Ivoire", Some("CI"));
        check("Ivory Coast", Some("CI"));
        check("Korea, Republic of", Some("KR"));
        check("South Korea", Some("KR"));
        check("Russian Federation", Some("RU"));
        check("Türkiye", Some("TR"));
        check("Turkiye", Some("TR"));
        check("Trinidad & Tobago", Some("TT"));
        check("St Lucia", Some("LC"));
        check("St. Kitts and Nevis", Some("KN"));
        check("Guinea Bissau", Some("GW"));
        check("Curacao", Some("CW"));
        check("Aland Islands", Some("AX"));
        check("Sao Tome and Principe", Some("ST"));
        check("Czech Republic", Some("CZ"));
        check("Narnia", None);
        check("", None);
        check("the", None);
        // A code is not a name: callers try both.
        check("US", None);

        let code = |code: &str| country_by_code(code).map(|place| place.name);
        assert_eq!(code("US"), Some("United States"));
        assert_eq!(code("us"), Some("United States"));
        assert_eq!(code(" gb "), Some("United Kingdom"));
        assert_eq!(code("DE"), Some("Germany"));
        assert_eq!(code("ZZ"), None);
        assert_eq!(code("USA"), None);
        assert_eq!(code("Ü"), None);
    }

    #[test]
    fn us_states() {
        let check = |name: &str, expected: Option<&str>| {
            assert_eq!(
                us_state_by_name(name).map(|place| place.code),
                expected,
                "{name}"
            );
        };
        check("Florida", Some("FL"));
        check("florida", Some("FL"));
        check("NEW YORK", Some("NY"));
        check("District of Columbia", Some("DC"));
        check("Washington, D.C.", Some("DC"));
        check("Washington DC", Some("DC"));
        check("Washington", Some("WA"));
        check("Ontario", None);
        assert_eq!(
            us_state_by_code("fl").map(|place| place.name),
            Some("Florida")
        );
        assert_eq!(
            us_state_by_code("DC").map(|place| place.name),
            Some("District of Columbia")
        );
        assert_eq!(us_state_by_code("ON"), None);
    }
}
