#!/bin/bash
# docker-compose 1.29.2 on Docker Engine 20.10, as a student types it: prints record.txt.
# Run from this folder. The compose files are in files/; each service runs `sleep 100000` in
# an image named `alpine` that is busybox-static imported without a registry:
#   mkdir -p img/bin && cp /bin/busybox img/bin/ &&
#   for a in sh sleep ip cat hostname; do ln -s busybox img/bin/$a; done &&
#   tar -C img -cf bb.tar . && docker import bb.tar alpine:latest
cd "$(dirname "$0")/files" || exit 1
cmds=(
"docker-compose -f shop/docker-compose.yml ps"
"docker-compose -f shop/docker-compose.yml up -d"
"docker-compose -f shop/docker-compose.yml ps"
"docker-compose -f shop/docker-compose.yml ps --services"
"docker-compose -f shop/docker-compose.yml config --services"
"docker network ls"
"docker inspect -f '{{.NetworkSettings.Networks.shop_back.IPAddress}} {{.NetworkSettings.Networks.shop_back.MacAddress}} {{json .NetworkSettings.Networks.shop_back.Aliases}}' shop_db_1"
"docker inspect -f '{{.NetworkSettings.Networks.shop_back.IPAddress}} {{json .NetworkSettings.Networks.shop_back.Aliases}}' shop_web_1"
"docker inspect -f '{{.NetworkSettings.Networks.shop_front.IPAddress}} {{json .NetworkSettings.Networks.shop_front.Aliases}}' shop_web_1"
"docker inspect -f '{{.NetworkSettings.Networks.shop_default.IPAddress}} {{json .NetworkSettings.Networks.shop_default.Aliases}}' shop_cache_1"
"docker inspect -f '{{json .Config.Labels}}' shop_web_1"
"docker network inspect -f '{{json .Labels}} {{json .IPAM.Config}}' shop_back"
"docker-compose -f shop/docker-compose.yml exec -T web ip -o -4 addr show"
"docker-compose -f shop/docker-compose.yml exec -T db hostname"
"docker-compose -f shop/docker-compose.yml exec -T web cat /etc/hosts"
"docker-compose -f shop/docker-compose.yml exec -T nosuch hostname"
"docker-compose -f shop/docker-compose.yml up -d"
"docker-compose -f shop/docker-compose.yml down"
"docker network ls"
"docker-compose -f shop/docker-compose.yml down"
"docker-compose -p Lab1 -f ord/docker-compose.yml up -d"
"docker exec lab1_zz_1 ip -o -4 addr show"
"docker-compose -p Lab1 -f ord/docker-compose.yml ps"
"docker-compose -p Lab1 -f ord/docker-compose.yml down -t 0"
"docker-compose -f bad1/docker-compose.yml up -d"
"docker-compose -f bad2/docker-compose.yml up -d"
"docker-compose -f nosuch.yml ps"
"cd empty && docker-compose up -d"
)
cleanup() {
  docker-compose -f shop/docker-compose.yml down -t 0 >/dev/null 2>&1
  docker-compose -p lab1 -f ord/docker-compose.yml down -t 0 >/dev/null 2>&1
}
cleanup
echo "# Docker Engine $(docker version -f '{{.Server.Version}}') (API $(docker version -f '{{.Server.APIVersion}}')), $(docker-compose version --short | sed 's/^/docker-compose /'), Linux $(uname -r)"
echo "# each block: \$ the command, then what it printed (both streams, in order) and its exit status;"
echo "# 64-hex IDs are ID, 12-hex short IDs SHORTID, the config hash HASH; carriage returns removed"
for c in "${cmds[@]}"; do
  echo "\$ $c"
  out=$( (eval "$c") 2>&1); rc=$?
  echo "$out" | tr -d '\r' | sed -E 's/"com.docker.compose.config-hash":"[0-9a-f]{64}"/"com.docker.compose.config-hash":"HASH"/; s/\b[0-9a-f]{64}\b/ID/g; s/\b[0-9a-f]{12}\b/SHORTID/g; s#"com.docker.compose.project.working_dir":"[^"]*/files/#"com.docker.compose.project.working_dir":"/DIR/#' | grep -v '^ *$'
  echo "[exit $rc]"
done
cleanup
