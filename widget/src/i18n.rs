//! Every text the widget shows, in every language it speaks, in one table.
//!
//! English is the default; `data-lang="fr"` on the widget's element picks French. A language
//! is one array with one entry per [`Text`], so a missing translation does not compile, and
//! the tests check that each keeps the placeholders (`{n}`, `{done}`, `{date}`…) of English.
//! Campaign texts (name, actions, questions) are the owner's and shown as written. Must not
//! touch the DOM.

/// A language the widget speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// The language of `data-lang` (`fr`, `fr-CA`, `FR`…); English for anything else.
    pub fn from_attribute(value: Option<&str>) -> Self {
        let primary = value
            .unwrap_or_default()
            .split(['-', '_'])
            .next()
            .unwrap_or_default();
        if primary.eq_ignore_ascii_case("fr") {
            Self::Fr
        } else {
            Self::En
        }
    }

    /// The BCP 47 tag, for `lang` attributes and date formatting.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    fn table(self) -> &'static [&'static str; N_TEXTS] {
        match self {
            Self::En => &EN,
            Self::Fr => &FR,
        }
    }

    pub fn get(self, text: Text) -> &'static str {
        self.table()[text as usize]
    }

    /// `text` with `{n}` replaced by `n`.
    pub fn with_n(self, text: Text, n: u32) -> String {
        self.get(text).replace("{n}", &n.to_string())
    }

    /// "You have 3 entries.", with the plural rule of the language (French counts 0 and 1 as
    /// singular).
    pub fn entries(self, n: u32) -> String {
        self.count(n, Text::EntriesOne, Text::EntriesMany)
    }

    /// `one` or `many` (by the language's plural rule) with `{n}` replaced by `n`.
    pub fn count(self, n: u32, one: Text, many: Text) -> String {
        let singular = match self {
            Self::En => n == 1,
            Self::Fr => n <= 1,
        };
        self.with_n(if singular { one } else { many }, n)
    }

    /// "2 of 3 actions done".
    pub fn progress(self, done: u32, needed: u32) -> String {
        self.get(Text::RewardProgress)
            .replace("{done}", &done.to_string())
            .replace("{needed}", &needed.to_string())
    }

    /// `text` with `{date}` replaced by `date` (already formatted for the language).
    pub fn with_date(self, text: Text, date: &str) -> String {
        self.get(text).replace("{date}", date)
    }
}

/// One text of the widget. The discriminant indexes the language tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Loading,
    Unavailable,
    NoEntryMethods,
    Email,
    Name,
    Optional,
    ConsentDefault,
    EnterButton,
    SubscribeButton,
    Sending,
    ConsentRequired,
    EmailMissing,
    EmailTooLong,
    EmailMalformed,
    NameTooLong,
    Queued,
    EntriesOne,
    EntriesMany,
    YoureIn,
    Subscribed,
    EnteringAs,
    NotYou,
    YourActions,
    Done,
    DoneToday,
    Locked,
    Required,
    SubmitAnswer,
    Choose,
    AnswerRequired,
    SecretCode,
    ImageUrl,
    InvalidUrl,
    Picture,
    ChoosePicture,
    PictureTooLarge,
    UploadFailed,
    ShareLink,
    ShareLinkPending,
    Referrals,
    RewardProgress,
    RewardUnlocked,
    YourCode,
    Download,
    NotStarted,
    Ended,
    EndsOn,
    Close,
    AlreadyEntered,
    MandatoryFirst,
    WrongSecretCode,
    Refused,
    // Social proof toasts (`toasts.rs` fills them in).
    Someone,
    FromPlace,
    Bought,
    SignedUp,
    Entered,
    JustNow,
    MinuteAgo,
    MinutesAgo,
    HourAgo,
    HoursAgo,
    DayAgo,
    DaysAgo,
    HideToasts,
}

/// How many texts there are: one past the last [`Text`].
const N_TEXTS: usize = Text::HideToasts as usize + 1;

const EN: [&str; N_TEXTS] = [
    "Loading…",
    "This campaign isn't available right now.",
    "This campaign takes no entries yet.",
    "Email",
    "Name",
    " (optional)",
    "Send me updates about this campaign.",
    "Enter",
    "Subscribe",
    "Sending…",
    "Please tick the box to agree before entering.",
    "Please enter your email address.",
    "That email address is too long.",
    "Please enter a valid email address, like name@example.com.",
    "That name is too long.",
    "You're offline. Your entry is saved and will be sent when you're back online.",
    "You have {n} entry.",
    "You have {n} entries.",
    "You're in!",
    "Thanks! You're subscribed.",
    "Entering as {email}.",
    "Not you?",
    "Ways to enter",
    "Done",
    "Done today. Come back tomorrow!",
    "Complete the required actions first.",
    "Required",
    "Submit",
    "Choose…",
    "Please answer the question.",
    "Secret code",
    "Image address",
    "Please enter a web address starting with https://.",
    "Your picture",
    "Please choose a picture: JPEG, PNG, GIF or WebP.",
    "That picture is too large: at most {n} KB.",
    "Your picture could not be sent. Please try again.",
    "Your share link",
    "Your share link is not ready yet.",
    "Friends who entered: {n}",
    "{done} of {needed} actions done",
    "Your reward is unlocked!",
    "Your code",
    "Download",
    "This campaign opens on {date}.",
    "This campaign has ended.",
    "Ends {date}",
    "Close",
    "You've already done this one.",
    "Please complete the required actions first.",
    "That's not the secret code. Check the hint and try again.",
    "Sorry, your entry could not be accepted.",
    "Someone",
    "{name} from {place}",
    "{who} bought {what}",
    "{who} signed up",
    "{who} entered {what}",
    "just now",
    "{n} minute ago",
    "{n} minutes ago",
    "{n} hour ago",
    "{n} hours ago",
    "{n} day ago",
    "{n} days ago",
    "Hide notifications",
];

const FR: [&str; N_TEXTS] = [
    "Chargement…",
    "Cette campagne n'est pas disponible pour le moment.",
    "Cette campagne n'accepte pas encore de participations.",
    "E-mail",
    "Nom",
    " (facultatif)",
    "Envoyez-moi des nouvelles de cette campagne.",
    "Participer",
    "S'abonner",
    "Envoi…",
    "Veuillez cocher la case pour accepter avant de participer.",
    "Veuillez saisir votre adresse e-mail.",
    "Cette adresse e-mail est trop longue.",
    "Veuillez saisir une adresse e-mail valide, comme nom@exemple.fr.",
    "Ce nom est trop long.",
    "Vous êtes hors ligne. Votre participation est enregistrée et sera envoyée dès votre retour en ligne.",
    "Vous avez {n} participation.",
    "Vous avez {n} participations.",
    "C'est fait !",
    "Merci ! Vous êtes abonné.",
    "Vous participez en tant que {email}.",
    "Ce n'est pas vous ?",
    "Façons de participer",
    "Fait",
    "Fait aujourd'hui. Revenez demain !",
    "Terminez d'abord les actions obligatoires.",
    "Obligatoire",
    "Valider",
    "Choisir…",
    "Veuillez répondre à la question.",
    "Code secret",
    "Adresse de l'image",
    "Veuillez saisir une adresse web commençant par https://.",
    "Votre image",
    "Veuillez choisir une image : JPEG, PNG, GIF ou WebP.",
    "Cette image est trop lourde : {n} Ko au plus.",
    "Votre image n'a pas pu être envoyée. Veuillez réessayer.",
    "Votre lien de partage",
    "Votre lien de partage n'est pas encore prêt.",
    "Amis ayant participé : {n}",
    "{done} action(s) sur {needed}",
    "Votre récompense est débloquée !",
    "Votre code",
    "Télécharger",
    "Cette campagne ouvre le {date}.",
    "Cette campagne est terminée.",
    "Se termine le {date}",
    "Fermer",
    "Vous avez déjà fait celle-ci.",
    "Veuillez d'abord terminer les actions obligatoires.",
    "Ce n'est pas le code secret. Relisez l'indice et réessayez.",
    "Désolé, votre participation n'a pas pu être acceptée.",
    "Quelqu'un",
    "{name} de {place}",
    "{who} a acheté {what}",
    "{who} s'est inscrit(e)",
    "{who} a participé à {what}",
    "à l'instant",
    "il y a {n} minute",
    "il y a {n} minutes",
    "il y a {n} heure",
    "il y a {n} heures",
    "il y a {n} jour",
    "il y a {n} jours",
    "Masquer les notifications",
];

/// The translated text for an API error `code`, for the codes the widget knows; the server's
/// own `detail` (English) is shown for the others.
pub fn api_error_text(code: &str) -> Option<Text> {
    use protocol::entry::codes;
    Some(match code {
        codes::CONSENT_REQUIRED => Text::ConsentRequired,
        codes::INVALID_NAME => Text::NameTooLong,
        codes::ALREADY_ENTERED => Text::AlreadyEntered,
        codes::MANDATORY_FIRST => Text::MandatoryFirst,
        codes::ANSWER_REQUIRED | codes::INVALID_CHOICE => Text::AnswerRequired,
        codes::WRONG_SECRET_CODE => Text::WrongSecretCode,
        codes::INVALID_UPLOAD => Text::InvalidUrl,
        codes::UNSUPPORTED_UPLOAD_TYPE => Text::ChoosePicture,
        codes::CAMPAIGN_NOT_RUNNING => Text::Ended,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `{…}` placeholders of a text, in order.
    fn placeholders(text: &str) -> Vec<&str> {
        text.match_indices('{')
            .filter_map(|(start, _)| {
                let end = text[start..].find('}')?;
                Some(&text[start..=start + end])
            })
            .collect()
    }

    #[test]
    fn every_language_has_every_text_with_the_same_placeholders() {
        for lang in [Lang::En, Lang::Fr] {
            for (index, (text, english)) in lang.table().iter().zip(EN.iter()).enumerate() {
                assert!(!text.trim().is_empty(), "{lang:?} text {index} is empty");
                assert_eq!(
                    placeholders(text),
                    placeholders(english),
                    "{lang:?} text {index}: {text:?}"
                );
            }
        }
    }

    #[test]
    fn french_is_a_translation_not_a_copy() {
        let same = EN.iter().zip(FR.iter()).filter(|(en, fr)| en == fr).count();
        assert!(same <= 2, "{same} French texts are the English ones");
    }

    #[test]
    fn the_last_text_is_the_last_entry() {
        assert_eq!(Lang::En.get(Text::HideToasts), EN[N_TEXTS - 1]);
        assert_eq!(Lang::Fr.get(Text::Someone), "Quelqu'un");
        assert_eq!(Lang::En.get(Text::Loading), "Loading…");
    }

    #[test]
    fn languages_from_the_attribute() {
        let check = |value: Option<&str>, expected: Lang| {
            assert_eq!(Lang::from_attribute(value), expected, "{value:?}");
        };
        check(None, Lang::En);
        check(Some(""), Lang::En);
        check(Some("de"), Lang::En);
        check(Some("fr"), Lang::Fr);
        check(Some("FR"), Lang::Fr);
        check(Some("fr-CA"), Lang::Fr);
        check(Some("fr_BE"), Lang::Fr);
    }

    #[test]
    fn plurals_and_placeholders() {
        assert_eq!(Lang::En.entries(1), "You have 1 entry.");
        assert_eq!(Lang::En.entries(0), "You have 0 entries.");
        assert_eq!(Lang::En.entries(3), "You have 3 entries.");
        assert_eq!(Lang::Fr.entries(0), "Vous avez 0 participation.");
        assert_eq!(Lang::Fr.entries(2), "Vous avez 2 participations.");
        assert_eq!(Lang::En.progress(1, 3), "1 of 3 actions done");
        assert_eq!(
            Lang::Fr.with_date(Text::EndsOn, "3 mars"),
            "Se termine le 3 mars"
        );
    }

    #[test]
    fn known_api_codes_are_translated() {
        assert_eq!(
            api_error_text("wrong_secret_code"),
            Some(Text::WrongSecretCode)
        );
        assert_eq!(api_error_text("payload_too_large"), None);
    }
}
