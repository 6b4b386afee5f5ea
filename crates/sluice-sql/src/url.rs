//! Connection URLs as they may be shown: in logs, errors and step outputs a
//! connection appears as its URL without password or secret parameters.

/// Query parameters whose values are never shown.
const SECRET_PARAMS: &[&str] = &["pass", "secret", "token", "key"];

/// `url` without its password and without secret-looking query parameters.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string(); // sqlite:path has nothing secret
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{user}@{host}")
        }
        None => authority.to_string(),
    };
    let mut shown = format!("{scheme}://{authority}{path}");
    if let Some(query) = query {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                let key = pair.split('=').next().unwrap_or_default().to_lowercase();
                !SECRET_PARAMS.iter().any(|s| key.contains(s))
            })
            .collect();
        if !kept.is_empty() {
            shown.push('?');
            shown.push_str(&kept.join("&"));
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_secret_parameters_are_removed() {
        assert_eq!(
            redact("postgres://etl:s3cr3t@db:5432/wh?sslmode=require&password=x"),
            "postgres://etl@db:5432/wh?sslmode=require"
        );
        assert_eq!(
            redact("mysql://root@127.0.0.1:3306/test"),
            "mysql://root@127.0.0.1:3306/test"
        );
        assert_eq!(
            redact("mariadb://u:p%40ss@h/db"),
            "mariadb://u@h/db",
            "an escaped @ in the password"
        );
        assert_eq!(redact("sqlite:data/wh.db"), "sqlite:data/wh.db");
        assert_eq!(
            redact("postgres://h/db?api_token=1"),
            "postgres://h/db",
            "no empty `?`"
        );
    }
}
