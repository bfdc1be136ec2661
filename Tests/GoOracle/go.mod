module sockstatlog/gooracle

go 1.22
