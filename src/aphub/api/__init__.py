"""The REST surface: endpoint declarations (`endpoint`), how a request is read and served
(`requests`, `serve`), the routes built from them (`routes`) and the table of them all
(`table`)."""
