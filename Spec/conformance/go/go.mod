module sslogdecode

go 1.22
