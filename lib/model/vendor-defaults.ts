/**
 * The default ports of common self-hosted servers and infrastructure, by `kind`. A server on its
 * own vendor's default is that port's owner: Gitea on 3000 or the Docker registry on 5000 is no
 * `defacto-port` conflict, however many other servers also default to that number. The table also
 * keeps fixes off every port it names (a fix never proposes a port some well-known server starts on).
 *
 * Maintained by hand; each entry cites the project's own documentation. Kinds are matched
 * case-insensitively with dashes, dots and underscores ignored (`docker-registry`, `DockerRegistry`);
 * `aliases` are other names for the same server (its image name, a short form). A registry that
 * runs a server the table lacks declares it with `defactoPorts` (`{ 3000: { what, kinds: [...] } }`).
 */

/** One server's default ports. */
export interface VendorDefault {
  /** The server's name, as its project writes it. */
  readonly name: string;
  /** The kind that names it in a registry; aliases are matched too. */
  readonly kind: string;
  readonly aliases?: readonly string[];
  /** Its default ports (TCP unless listed under `udp`). */
  readonly ports: readonly number[];
  readonly udp?: readonly number[];
}

/* eslint-disable max-len */
export const VENDOR_DEFAULTS: readonly VendorDefault[] = [
  // --- Source hosting, CI, artifacts ---
  // https://docs.gitea.com/administration/config-cheat-sheet (HTTP_PORT 3000, SSH_PORT 22)
  { name: 'Gitea', kind: 'gitea', ports: [3000, 22] },
  // https://forgejo.org/docs/latest/admin/config-cheat-sheet/ (HTTP_PORT 3000)
  { name: 'Forgejo', kind: 'forgejo', ports: [3000, 22] },
  // https://gogs.io/docs/advanced/configuration_cheat_sheet (HTTP_PORT 3000)
  { name: 'Gogs', kind: 'gogs', ports: [3000, 22] },
  // https://docs.gitlab.com/ee/administration/package_information/defaults.html
  { name: 'GitLab', kind: 'gitlab', ports: [80, 443, 22] },
  // https://www.jenkins.io/doc/book/installing/docker/ (8080 web, 50000 agents)
  { name: 'Jenkins', kind: 'jenkins', ports: [8080, 50000] },
  // https://woodpecker-ci.org/docs/administration/server-config (SERVER_ADDR :8000, gRPC 9000)
  { name: 'Woodpecker CI', kind: 'woodpecker', ports: [8000, 9000] },
  // https://concourse-ci.org/concourse-web.html (CONCOURSE_BIND_PORT 8080)
  { name: 'Concourse', kind: 'concourse', ports: [8080] },
  // https://argo-cd.readthedocs.io/en/stable/operator-manual/server-commands/argocd-server/ (--port 8080)
  { name: 'Argo CD', kind: 'argocd', ports: [8080] },
  // https://distribution.github.io/distribution/about/deploying/ (registry:2 listens on 5000)
  { name: 'the Docker registry (distribution)', kind: 'docker-registry', aliases: ['registry', 'distribution', 'oci-registry'], ports: [5000] },
  // https://help.sonatype.com/en/installation-methods.html (application-port 8081)
  { name: 'Sonatype Nexus', kind: 'nexus', aliases: ['nexus3'], ports: [8081] },
  // https://jfrog.com/help/r/jfrog-installation-setup-documentation/default-ports (8081, 8082)
  { name: 'JFrog Artifactory', kind: 'artifactory', ports: [8081, 8082] },
  // https://verdaccio.org/docs/configuration#listen-port (4873)
  { name: 'Verdaccio', kind: 'verdaccio', ports: [4873] },
  // https://docs.sonarsource.com/sonarqube/latest/setup-and-upgrade/configure-and-operate-a-server/environment-variables/ (sonar.web.port 9000)
  { name: 'SonarQube', kind: 'sonarqube', ports: [9000] },
  // https://goharbor.io/docs/main/install-config/configure-yml-file/ (http 80, https 443)
  { name: 'Harbor', kind: 'harbor', ports: [80, 443] },

  // --- Container and cluster management ---
  // https://docs.portainer.io/start/install-ce/server/docker/linux (9443, 9000 legacy HTTP, 8000 Edge tunnel)
  { name: 'Portainer', kind: 'portainer', aliases: ['portainer-ce', 'portainer-ee'], ports: [9000, 9443, 8000] },
  // https://docs.docker.com/engine/daemon/remote-access/ (2375 plain, 2376 TLS)
  { name: 'the Docker Engine API', kind: 'docker', aliases: ['dockerd', 'docker-engine'], ports: [2375, 2376] },
  // https://kubernetes.io/docs/reference/networking/ports-and-protocols/ (6443, 2379-2380, 10250)
  { name: 'the Kubernetes API server', kind: 'kube-apiserver', aliases: ['kubernetes'], ports: [6443] },
  { name: 'the kubelet', kind: 'kubelet', ports: [10250] },
  // https://etcd.io/docs/latest/op-guide/configuration/ (2379 clients, 2380 peers)
  { name: 'etcd', kind: 'etcd', ports: [2379, 2380] },
  // https://developer.hashicorp.com/consul/docs/install/ports (8500 HTTP, 8600 DNS, 8300-8302)
  { name: 'Consul', kind: 'consul', ports: [8500, 8600, 8300, 8301, 8302], udp: [8600, 8301, 8302] },
  // https://developer.hashicorp.com/vault/docs/configuration/listener/tcp (8200, cluster 8201)
  { name: 'Vault', kind: 'vault', aliases: ['openbao'], ports: [8200, 8201] },
  // https://developer.hashicorp.com/nomad/docs/install/production/requirements#ports-used (4646-4648)
  { name: 'Nomad', kind: 'nomad', ports: [4646, 4647, 4648] },
  // https://amir20.github.io/dozzle/guide/getting-started (8080)
  { name: 'Dozzle', kind: 'dozzle', ports: [8080] },

  // --- Proxies and web servers ---
  // https://doc.traefik.io/traefik/operations/dashboard/ (entry points 80/443, API 8080)
  { name: 'Traefik', kind: 'traefik', ports: [80, 443, 8080] },
  // https://nginx.org/en/docs/http/ngx_http_core_module.html#listen (80)
  { name: 'nginx', kind: 'nginx', ports: [80, 443] },
  // https://caddyserver.com/docs/caddyfile/options#admin (80, 443, admin 2019)
  { name: 'Caddy', kind: 'caddy', ports: [80, 443, 2019] },
  // https://httpd.apache.org/docs/2.4/bind.html (Listen 80)
  { name: 'the Apache HTTP Server', kind: 'apache', aliases: ['httpd'], ports: [80, 443] },
  // https://nginxproxymanager.com/guide/#quick-setup (80, 81 admin, 443)
  { name: 'Nginx Proxy Manager', kind: 'nginx-proxy-manager', aliases: ['npm-proxy'], ports: [80, 81, 443] },
  // https://www.haproxy.com/documentation/haproxy-configuration-tutorials/ (stats commonly 8404)
  { name: 'HAProxy', kind: 'haproxy', ports: [80, 443, 8404] },
  // https://tomcat.apache.org/tomcat-10.1-doc/config/http.html (8080)
  { name: 'Apache Tomcat', kind: 'tomcat', ports: [8080, 8005, 8009] },
  // https://www.php.net/manual/en/install.fpm.configuration.php (listen 127.0.0.1:9000)
  { name: 'PHP-FPM', kind: 'php-fpm', ports: [9000] },

  // --- Databases and data APIs ---
  // https://www.postgresql.org/docs/current/runtime-config-connection.html (port 5432)
  { name: 'PostgreSQL', kind: 'postgres', aliases: ['postgresql', 'postgis', 'timescaledb', 'pgvector'], ports: [5432] },
  // https://www.pgbouncer.org/config.html (listen_port 6432)
  { name: 'PgBouncer', kind: 'pgbouncer', ports: [6432] },
  // https://docs.postgrest.org/en/stable/references/configuration.html#server-port (3000)
  { name: 'PostgREST', kind: 'postgrest', ports: [3000] },
  // https://hasura.io/docs/latest/deployment/graphql-engine-flags/reference/ (8080)
  { name: 'Hasura', kind: 'hasura', aliases: ['graphql-engine'], ports: [8080] },
  // https://dev.mysql.com/doc/refman/8.0/en/server-system-variables.html#sysvar_port (3306, X 33060)
  { name: 'MySQL', kind: 'mysql', ports: [3306, 33060] },
  // https://mariadb.com/kb/en/server-system-variables/#port (3306)
  { name: 'MariaDB', kind: 'mariadb', ports: [3306] },
  // https://www.mongodb.com/docs/manual/reference/default-mongodb-port/ (27017)
  { name: 'MongoDB', kind: 'mongodb', aliases: ['mongo'], ports: [27017, 27018, 27019] },
  // https://redis.io/docs/latest/operate/oss_and_stack/management/config/ (port 6379, sentinel 26379)
  { name: 'Redis', kind: 'redis', aliases: ['redis-stack', 'keydb', 'dragonfly'], ports: [6379, 26379] },
  // https://valkey.io/topics/config/ (6379)
  { name: 'Valkey', kind: 'valkey', ports: [6379] },
  // https://github.com/memcached/memcached/wiki/ConfiguringServer (11211)
  { name: 'memcached', kind: 'memcached', ports: [11211] },
  // https://cassandra.apache.org/doc/latest/cassandra/managing/configuration/cass_yaml_file.html (9042, 7000)
  { name: 'Apache Cassandra', kind: 'cassandra', aliases: ['scylla', 'scylladb'], ports: [9042, 7000, 7001, 7199] },
  // https://docs.couchdb.org/en/stable/setup/cluster.html#ports-and-firewalls (5984)
  { name: 'CouchDB', kind: 'couchdb', ports: [5984] },
  // https://neo4j.com/docs/operations-manual/current/configuration/ports/ (7474, 7687)
  { name: 'Neo4j', kind: 'neo4j', ports: [7474, 7473, 7687] },
  // https://clickhouse.com/docs/en/guides/sre/network-ports (8123 HTTP, 9000 native)
  { name: 'ClickHouse', kind: 'clickhouse', ports: [8123, 9000, 9009] },
  // https://docs.influxdata.com/influxdb/v2/reference/config-options/#http-bind-address (8086)
  { name: 'InfluxDB', kind: 'influxdb', ports: [8086] },
  // https://docs.victoriametrics.com/single-server-victoriametrics/ (8428)
  { name: 'VictoriaMetrics', kind: 'victoriametrics', ports: [8428] },
  // https://docs.timescale.com (PostgreSQL's 5432) is under postgres above.
  // https://www.meilisearch.com/docs/learn/configuration/instance_options#http-address--port-binding (7700)
  { name: 'Meilisearch', kind: 'meilisearch', ports: [7700] },
  // https://typesense.org/docs/latest/api/server-configuration.html (8108)
  { name: 'Typesense', kind: 'typesense', ports: [8108] },
  // https://qdrant.tech/documentation/guides/configuration/ (6333 HTTP, 6334 gRPC)
  { name: 'Qdrant', kind: 'qdrant', ports: [6333, 6334] },
  // https://min.io/docs/minio/linux/reference/minio-server/minio-server.html (9000 API, 9001 console)
  { name: 'MinIO', kind: 'minio', ports: [9000, 9001] },
  // https://docs.pgadmin.org/en/latest/container_deployment.html (80)
  { name: 'pgAdmin', kind: 'pgadmin', aliases: ['pgadmin4'], ports: [80, 443] },
  // https://www.adminer.org (the official image listens on 8080)
  { name: 'Adminer', kind: 'adminer', ports: [8080] },

  // --- Messaging ---
  // https://www.rabbitmq.com/docs/networking#ports (5672 AMQP, 15672 management)
  { name: 'RabbitMQ', kind: 'rabbitmq', aliases: ['amqp'], ports: [5672, 5671, 15672, 25672] },
  // https://kafka.apache.org/documentation/#brokerconfigs_listeners (9092)
  { name: 'Apache Kafka', kind: 'kafka', aliases: ['redpanda', 'cp-kafka'], ports: [9092] },
  // https://zookeeper.apache.org/doc/current/zookeeperStarted.html (clientPort 2181)
  { name: 'ZooKeeper', kind: 'zookeeper', ports: [2181, 2888, 3888] },
  // https://docs.nats.io/running-a-nats-service/configuration (4222 clients, 8222 monitoring, 6222 routes)
  { name: 'NATS', kind: 'nats', ports: [4222, 6222, 8222] },
  // https://mosquitto.org/man/mosquitto-conf-5.html (1883; websockets commonly 9001)
  { name: 'Eclipse Mosquitto', kind: 'mosquitto', aliases: ['mqtt'], ports: [1883, 8883, 9001] },
  // https://mailpit.axllent.org/docs/configuration/ (SMTP 1025, web 8025); MailHog the same
  { name: 'Mailpit', kind: 'mailpit', ports: [1025, 8025] },
  { name: 'MailHog', kind: 'mailhog', ports: [1025, 8025] },

  // --- Observability ---
  // https://grafana.com/docs/grafana/latest/setup-grafana/configure-grafana/#http_port (3000)
  { name: 'Grafana', kind: 'grafana', ports: [3000] },
  // https://prometheus.io/docs/prometheus/latest/getting_started/ (9090); exporters: https://github.com/prometheus/prometheus/wiki/Default-port-allocations
  { name: 'Prometheus', kind: 'prometheus', ports: [9090] },
  { name: 'Alertmanager', kind: 'alertmanager', ports: [9093, 9094], udp: [9094] },
  { name: 'the Prometheus Pushgateway', kind: 'pushgateway', ports: [9091] },
  { name: 'the Prometheus node exporter', kind: 'node-exporter', ports: [9100] },
  { name: 'the Prometheus Blackbox exporter', kind: 'blackbox-exporter', ports: [9115] },
  // https://grafana.com/docs/loki/latest/configure/ (http_listen_port 3100)
  { name: 'Grafana Loki', kind: 'loki', ports: [3100, 9095] },
  // https://grafana.com/docs/tempo/latest/configuration/ (3200)
  { name: 'Grafana Tempo', kind: 'tempo', ports: [3200, 4317, 4318] },
  // https://grafana.com/docs/alloy/latest/ (12345); Promtail https://grafana.com/docs/loki/latest/send-data/promtail/configuration/ (9080)
  { name: 'Grafana Alloy', kind: 'alloy', ports: [12345] },
  { name: 'Promtail', kind: 'promtail', ports: [9080] },
  // https://www.jaegertracing.io/docs/latest/deployment/ (16686 UI, 14268, 4317/4318 OTLP, 6831 UDP)
  { name: 'Jaeger', kind: 'jaeger', ports: [16686, 14268, 14250, 4317, 4318], udp: [6831, 6832] },
  // https://zipkin.io/pages/quickstart.html (9411)
  { name: 'Zipkin', kind: 'zipkin', ports: [9411] },
  // https://opentelemetry.io/docs/collector/configuration/ (OTLP 4317 gRPC, 4318 HTTP)
  { name: 'the OpenTelemetry Collector', kind: 'otel-collector', aliases: ['opentelemetry-collector', 'otelcol'], ports: [4317, 4318, 8888, 13133] },
  // https://www.elastic.co/guide/en/elasticsearch/reference/current/modules-network.html (9200 HTTP, 9300 transport)
  { name: 'Elasticsearch', kind: 'elasticsearch', ports: [9200, 9300] },
  // https://opensearch.org/docs/latest/install-and-configure/install-opensearch/docker/ (9200, 9600)
  { name: 'OpenSearch', kind: 'opensearch', ports: [9200, 9300, 9600] },
  { name: 'OpenSearch Dashboards', kind: 'opensearch-dashboards', ports: [5601] },
  // https://www.elastic.co/guide/en/kibana/current/settings.html (server.port 5601)
  { name: 'Kibana', kind: 'kibana', ports: [5601] },
  // https://www.elastic.co/guide/en/logstash/current/plugins-inputs-beats.html (5044), the monitoring API (9600),
  // and the TCP/UDP input on 5000 of https://github.com/deviantony/docker-elk
  { name: 'Logstash', kind: 'logstash', ports: [5044, 5000, 9600], udp: [5000] },
  // https://docs.fluentd.org/input/forward (24224); Fluent Bit https://docs.fluentbit.io/manual/administration/monitoring (2020)
  { name: 'Fluentd', kind: 'fluentd', ports: [24224], udp: [24224] },
  { name: 'Fluent Bit', kind: 'fluent-bit', ports: [2020, 24224] },
  // https://vector.dev/docs/reference/api/ (8686)
  { name: 'Vector', kind: 'vector', ports: [8686] },
  // https://go2docs.graylog.org/current/setting_up_graylog/default_ports.html (9000 web, 12201 GELF, 1514 syslog)
  { name: 'Graylog', kind: 'graylog', ports: [9000, 12201, 1514], udp: [12201, 1514] },
  // https://learn.netdata.cloud/docs/netdata-agent/configuration (19999)
  { name: 'Netdata', kind: 'netdata', ports: [19999] },
  // https://github.com/google/cadvisor/blob/master/docs/runtime_options.md (8080)
  { name: 'cAdvisor', kind: 'cadvisor', ports: [8080] },
  // https://www.zabbix.com/documentation/current/en/manual/appendix/config/zabbix_server (10051; agent 10050)
  { name: 'Zabbix', kind: 'zabbix', aliases: ['zabbix-server'], ports: [10051, 10050] },
  // https://github.com/louislam/uptime-kuma/wiki/Environment-Variables (UPTIME_KUMA_PORT 3001)
  { name: 'Uptime Kuma', kind: 'uptime-kuma', ports: [3001] },
  // https://develop.sentry.dev/self-hosted/ (9000)
  { name: 'Sentry', kind: 'sentry', ports: [9000] },

  // --- Home lab, media, files ---
  // https://github.com/AdguardTeam/AdGuardHome/wiki/Docker (3000 setup and web UI, 53 DNS, 80)
  { name: 'AdGuard Home', kind: 'adguard', aliases: ['adguard-home'], ports: [3000, 53, 80, 443, 853], udp: [53, 67, 68, 853] },
  // https://docs.pi-hole.net/main/prerequisites/#ports (53 DNS, 80 web)
  { name: 'Pi-hole', kind: 'pihole', ports: [53, 80, 443], udp: [53, 67] },
  // https://github.com/qbittorrent/qBittorrent/wiki (WebUI 8080, incoming 6881); linuxserver/qbittorrent WEBUI_PORT 8080
  { name: 'qBittorrent', kind: 'qbittorrent', ports: [8080, 6881], udp: [6881] },
  // https://github.com/transmission/transmission/blob/main/docs/Editing-Configuration-Files.md (rpc-port 9091, peer-port 51413)
  { name: 'Transmission', kind: 'transmission', ports: [9091, 51413], udp: [51413] },
  // https://docs.syncthing.net/users/firewall.html (8384 GUI, 22000 sync, 21027 UDP discovery)
  { name: 'Syncthing', kind: 'syncthing', ports: [8384, 22000], udp: [22000, 21027] },
  // https://www.home-assistant.io/integrations/http/#server_port (8123)
  { name: 'Home Assistant', kind: 'home-assistant', aliases: ['hass'], ports: [8123] },
  // https://nodered.org/docs/user-guide/runtime/settings-file (uiPort 1880)
  { name: 'Node-RED', kind: 'node-red', ports: [1880] },
  // https://jellyfin.org/docs/general/networking/ (8096 HTTP, 8920 HTTPS, 7359 UDP discovery)
  { name: 'Jellyfin', kind: 'jellyfin', ports: [8096, 8920], udp: [7359, 1900] },
  // https://support.plex.tv/articles/201543147-what-network-ports-do-i-need-to-allow-through-my-firewall/ (32400)
  { name: 'Plex', kind: 'plex', aliases: ['plex-media-server', 'pms'], ports: [32400] },
  // https://wiki.servarr.com (Sonarr 8989, Radarr 7878, Lidarr 8686, Readarr 8787, Prowlarr 9696, Bazarr 6767)
  { name: 'Sonarr', kind: 'sonarr', ports: [8989] },
  { name: 'Radarr', kind: 'radarr', ports: [7878] },
  { name: 'Lidarr', kind: 'lidarr', ports: [8686] },
  { name: 'Readarr', kind: 'readarr', ports: [8787] },
  { name: 'Prowlarr', kind: 'prowlarr', ports: [9696] },
  { name: 'Bazarr', kind: 'bazarr', ports: [6767] },
  // https://github.com/Jackett/Jackett (9117); Overseerr https://docs.overseerr.dev (5055)
  { name: 'Jackett', kind: 'jackett', ports: [9117] },
  { name: 'Overseerr', kind: 'overseerr', aliases: ['jellyseerr'], ports: [5055] },
  // https://immich.app/docs/install/environment-variables (IMMICH_PORT 2283)
  { name: 'Immich', kind: 'immich', aliases: ['immich-server'], ports: [2283] },
  // https://docs.photoprism.app/getting-started/config-options/ (2342)
  { name: 'PhotoPrism', kind: 'photoprism', ports: [2342] },
  // https://docs.paperless-ngx.com/configuration/#PAPERLESS_PORT (8000)
  { name: 'Paperless-ngx', kind: 'paperless-ngx', aliases: ['paperless'], ports: [8000] },
  // https://docs.nextcloud.com (the official image's Apache listens on 80)
  { name: 'Nextcloud', kind: 'nextcloud', ports: [80] },
  // https://github.com/dani-garcia/vaultwarden/wiki (ROCKET_PORT 80)
  { name: 'Vaultwarden', kind: 'vaultwarden', ports: [80] },
  // https://www.authelia.com/configuration/miscellaneous/server/ (9091)
  { name: 'Authelia', kind: 'authelia', ports: [9091] },
  // https://www.keycloak.org/server/all-config#category-http (8080, 8443)
  { name: 'Keycloak', kind: 'keycloak', ports: [8080, 8443, 9000] },
  // https://docs.goauthentik.io/docs/install-config/configuration/ (9000 HTTP, 9443 HTTPS)
  { name: 'authentik', kind: 'authentik', ports: [9000, 9443] },
  // https://gethomepage.dev/installation/docker/ (3000); Homarr https://homarr.dev (7575); Heimdall (80)
  { name: 'Homepage', kind: 'homepage', ports: [3000] },
  { name: 'Homarr', kind: 'homarr', ports: [7575] },
  { name: 'Heimdall', kind: 'heimdall', ports: [80, 443] },
  // https://coder.com/docs/code-server/FAQ (8080)
  { name: 'code-server', kind: 'code-server', ports: [8080] },
  // https://gotify.net/docs/config (80)
  { name: 'Gotify', kind: 'gotify', ports: [80] },
  // https://docs.ntfy.sh/config/ (80)
  { name: 'ntfy', kind: 'ntfy', ports: [80] },
  // https://www.wireguard.com/quickstart/ (51820/udp by convention); wg-easy's web UI 51821
  { name: 'WireGuard', kind: 'wireguard', aliases: ['wg-easy'], ports: [51821], udp: [51820] },
  // https://docs.samba.org/ (139, 445)
  { name: 'Samba', kind: 'samba', aliases: ['smb'], ports: [139, 445], udp: [137, 138] },
  // https://www.openssh.com/manual.html (22)
  { name: 'OpenSSH', kind: 'ssh', aliases: ['sshd', 'openssh'], ports: [22] },
  // https://www.x.org/releases/current/doc/man/man7/X.7.xhtml (display :0 is TCP 6000)
  { name: 'the X Window System (X11)', kind: 'x11', aliases: ['xorg', 'xserver'], ports: [6000] },

  // --- Apps and AI ---
  // https://docs.n8n.io/hosting/configuration/environment-variables/deployment/ (N8N_PORT 5678)
  { name: 'n8n', kind: 'n8n', ports: [5678] },
  // https://www.metabase.com/docs/latest/configuring-metabase/environment-variables#mb_jetty_port (3000)
  { name: 'Metabase', kind: 'metabase', ports: [3000] },
  // https://superset.apache.org/docs/installation/docker-compose (8088)
  { name: 'Apache Superset', kind: 'superset', ports: [8088] },
  // https://airflow.apache.org/docs/apache-airflow/stable/configurations-ref.html#web-server-port (8080)
  { name: 'Apache Airflow', kind: 'airflow', ports: [8080] },
  // https://docs.mattermost.com/configure/environment-configuration-settings.html (8065)
  { name: 'Mattermost', kind: 'mattermost', ports: [8065] },
  // https://docs.rocket.chat (3000); Outline https://docs.getoutline.com (3000)
  { name: 'Rocket.Chat', kind: 'rocketchat', ports: [3000] },
  { name: 'Outline', kind: 'outline', ports: [3000] },
  // https://github.com/ollama/ollama/blob/main/docs/faq.md (OLLAMA_HOST 127.0.0.1:11434)
  { name: 'Ollama', kind: 'ollama', ports: [11434] },
  // https://docs.openwebui.com/getting-started/ (the container listens on 8080)
  { name: 'Open WebUI', kind: 'open-webui', ports: [8080] },
  // https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html (8000)
  { name: 'vLLM', kind: 'vllm', ports: [8000] },
  // https://github.com/huggingface/text-generation-inference (80 in the container)
  { name: 'Text Generation Inference', kind: 'tgi', aliases: ['text-generation-inference'], ports: [80] },
  // https://github.com/ggerganov/llama.cpp/tree/master/examples/server (8080)
  { name: 'the llama.cpp server', kind: 'llama-cpp', ports: [8080] },
  // https://docs.litellm.ai/docs/proxy/deploy (4000)
  { name: 'LiteLLM', kind: 'litellm', ports: [4000] },
  // https://jupyter-server.readthedocs.io/en/latest/other/full-config.html (ServerApp.port 8888)
  { name: 'Jupyter', kind: 'jupyter', aliases: ['jupyterlab'], ports: [8888] },
  // https://mlflow.org/docs/latest/tracking/server.html (5000)
  { name: 'MLflow', kind: 'mlflow', ports: [5000] },
  // https://docs.ray.io/en/latest/ray-core/configure.html#ports-configurations (6379 GCS, 8265 dashboard)
  { name: 'Ray', kind: 'ray', ports: [6379, 8265, 10001] },
  // https://docs.streamlit.io/develop/api-reference/configuration/config.toml (8501)
  { name: 'Streamlit', kind: 'streamlit', ports: [8501] },
  // https://www.gradio.app/guides/environment-variables (GRADIO_SERVER_PORT 7860)
  { name: 'Gradio', kind: 'gradio', ports: [7860] },

  // --- Development servers ---
  // https://flask.palletsprojects.com/en/stable/cli/ (5000); https://docs.djangoproject.com/en/stable/ref/django-admin/#runserver (8000)
  { name: 'Flask', kind: 'flask', ports: [5000] },
  { name: 'Django', kind: 'django', ports: [8000] },
  // https://guides.rubyonrails.org/command_line.html#bin-rails-server (3000)
  { name: 'Ruby on Rails', kind: 'rails', ports: [3000] },
  // https://nextjs.org/docs/app/api-reference/cli/next#next-dev-options (3000); Express's examples (3000)
  { name: 'Next.js', kind: 'nextjs', aliases: ['next'], ports: [3000] },
  { name: 'Express', kind: 'express', aliases: ['node', 'nodejs'], ports: [3000] },
  // https://vite.dev/config/server-options#server-port (5173); https://angular.dev/cli/serve (4200)
  { name: 'Vite', kind: 'vite', ports: [5173] },
  { name: 'the Angular dev server', kind: 'angular', ports: [4200] },
  // https://docs.spring.io/spring-boot/appendix/application-properties/index.html#application-properties.server.server.port (8080)
  { name: 'Spring Boot', kind: 'spring-boot', aliases: ['spring'], ports: [8080] },
];
/* eslint-enable max-len */

/** `Docker_Registry` -> `dockerregistry`: kinds compare without case or separators. */
export const kindKey = (kind: string): string => kind.toLowerCase().replace(/[-_. ]+/g, '');

let byKind: Map<string, VendorDefault> | undefined;
let byPort: Map<number, VendorDefault[]> | undefined;

/** The table entry for a kind (its own name or an alias), if the table knows it. */
export function vendorDefault(kind: string | undefined): VendorDefault | undefined {
  if (!kind) return undefined;
  if (!byKind) {
    byKind = new Map();
    for (const v of VENDOR_DEFAULTS) for (const k of [v.kind, ...(v.aliases ?? [])]) if (!byKind.has(kindKey(k))) byKind.set(kindKey(k), v);
  }
  return byKind.get(kindKey(kind));
}

/** Whether `port` is one of the defaults of the server `kind` names. */
export function isVendorDefault(kind: string | undefined, port: number): boolean {
  const v = vendorDefault(kind);
  return !!v && (v.ports.includes(port) || !!v.udp?.includes(port));
}

/** The servers whose default `port` is (TCP or UDP), in table order. */
export function vendorsOnPort(port: number): readonly VendorDefault[] {
  if (!byPort) {
    byPort = new Map();
    for (const v of VENDOR_DEFAULTS) {
      for (const p of new Set([...v.ports, ...(v.udp ?? [])])) {
        const list = byPort.get(p);
        if (list) list.push(v);
        else byPort.set(p, [v]);
      }
    }
  }
  return byPort.get(port) ?? [];
}
