DROP TABLE auth_session;
DROP TABLE auth_token;
DROP TABLE auth_user;
