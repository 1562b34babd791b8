# advbench in a container: a static binary (the default build needs no cgo)
# on a distroless base, for running reproduction cells on a cluster
# ('advbench reproduce plan'). Build from the repository root:
#   docker build -t advbench:dev .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /advbench ./cmd/advbench

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /advbench /advbench
ENTRYPOINT ["/advbench"]
