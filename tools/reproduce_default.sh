#!/usr/bin/env bash
# Rebuilds the shipped default cascade (models/default) from scratch, piece by piece, as its model
# card (models/README.md, "Commands") and models/wip/base/model.json ("lineage") record it:
#
#   1. the first cascade: base 5,000 steps, SR 1 2,000 steps, SR 2 1,400 steps (plain loss);
#   2. the base continued with the object-weighted loss (weight 5, 7,164 steps);
#   3. two continuations of it (A: weight 5, 2,921 steps; F: weight 20, 1,200 steps), averaged;
#   4. rounds: two one-thread continuations (weight 5 and weight 20, fresh data seeds) averaged,
#      at lr 5e-4 and then, for the last rounds, cooled down (lr 1e-4, 5e-5);
#   5. the last average's base + text encoder composed with step 1's SR stages;
#   6. SR 1 fine-tuned 1,500 steps against that text encoder, in place of step 1's SR 1.
#
#   bash tools/reproduce_default.sh            # everything into runs/repro/ (about 14.5 h of both cores)
#   OUT=models/default bash tools/reproduce_default.sh   # and replace the shipped model at the end
#
# Every piece trains to a fixed step count (the recorded one) with --resume, so the script can be
# stopped at any time and started again with the same command: finished pieces are skipped.
# Runs of a round use one BLAS thread each and run side by side on the two cores. Not bit-exact:
# native BLAS sums in a thread-dependent order, and the first cascade was scheduled differently
# (see the card); round 4's step counts were lost with session 8's runs/ (2,100 is the 40-minute
# count of its neighbouring rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=${DENO:-"npx -y deno@2.9.6"}
R=${REPRO_DIR:-runs/repro}
OUT=${OUT:-$R/default}
export DREAMBOOTH_BLAS_THREADS=1
mkdir -p "$R"

# piece NAME INIT OBJECT_WEIGHT DATA_SEED STEPS [LR]: one base continuation, exported to $R/export_NAME
piece() {
  local name=$1 init=$2 weight=$3 seed=$4 steps=$5 lr=${6:-5e-4}
  if [ -f "$R/export_$name/cascade.safetensors" ]; then return 0; fi
  mkdir -p "$R/$name"
  $DENO task pretrain --stage base --run "$R/$name/base" --init-from "$init" --object-weight "$weight" \
    --data-seed "$seed" --lr "$lr" --steps "$steps" --resume >> "$R/$name/base.log" 2>&1
  $DENO run -A training/export_cli.ts --runs "$R/$name" --stages base --out "$R/export_$name"
}

# soup NAME INIT STEPS_A SEED_A STEPS_B SEED_B [LR]: weight 5 and weight 20 side by side, averaged
# into $R/NAME
soup() {
  local name=$1 init=$2 lr=${7:-5e-4}
  if [ -f "$R/$name/cascade.safetensors" ]; then return 0; fi
  piece "${name}_l1" "$init" 5 "$4" "$3" "$lr" &
  local a=$!
  piece "${name}_l2" "$init" 20 "$6" "$5" "$lr" &
  local b=$!
  wait $a
  wait $b
  $DENO task average-cascades --inputs "$R/export_${name}_l1,$R/export_${name}_l2" --out "$R/$name"
  echo "$name done ($(date -u +%H:%M) UTC)"
}

# 1. the first cascade (SR 2 reads no text and runs beside the base; SR 1 copies the base's encoder)
if [ ! -f "$R/first/cascade.safetensors" ]; then
  mkdir -p "$R/pretrain"
  $DENO task pretrain --stage base --run "$R/pretrain/base" --steps 5000 --resume >> "$R/pretrain/base.log" 2>&1 &
  b=$!
  $DENO task pretrain --stage sr2 --run "$R/pretrain/sr2" --steps 1400 --resume >> "$R/pretrain/sr2.log" 2>&1
  wait $b
  $DENO task pretrain --stage sr1 --run "$R/pretrain/sr1" --base-run "$R/pretrain/base" --steps 2000 --resume \
    >> "$R/pretrain/sr1.log" 2>&1
  $DENO run -A training/export_cli.ts --runs "$R/pretrain" --out "$R/first"
fi

# 2. the object-weighted base (data seed 1048576, the base's default stream)
piece ow5 "$R/first/cascade.safetensors" 5 1048576 7164

# 3. A and F, averaged
soup af "$R/export_ow5/cascade.safetensors" 2921 1048592 1200 1048601

# 4. the rounds: steps and seeds of the weight 5 run, then of the weight 20 run, then the lr
prev=$R/af
while read -r name s1 seed1 s2 seed2 lr; do
  soup "$name" "$prev/cascade.safetensors" "$s1" "$seed1" "$s2" "$seed2" "$lr"
  prev=$R/$name
done <<'ROUNDS'
round1 1746 1048593 1767 1048594 5e-4
round2 1706 1048595 1705 1048596 5e-4
round3 2000 1048602 1978 1048603 5e-4
round4 2100 1048604 2100 1048605 5e-4
round5 2120 1048606 2156 1048607 5e-4
round6 2317 1048608 2319 1048609 5e-4
round7 2412 1048610 2429 1048611 5e-4
round8 1723 1048612 1742 1048613 5e-4
round9 2156 1048614 2180 1048615 1e-4
round10 2024 1048616 2037 1048617 5e-5
ROUNDS

# 5. the last base and its text encoder in front of the first cascade's SR stages
if [ ! -f "$R/composed/cascade.safetensors" ]; then
  $DENO task compose-cascades --target "$R/first" --donor "$prev" --parts base,text_encoder --out "$R/composed"
fi

# 6. SR 1 fine-tuned against that text encoder (its own fresh data seed), put in front of SR 2
#    (the export takes the base and the encoder from the composed file: --base)
if [ ! -f "$R/export_sr1ft/cascade.safetensors" ]; then
  mkdir -p "$R/sr1ft"
  $DENO task pretrain --stage sr1 --run "$R/sr1ft/sr1" --base-run "$R/composed/cascade.safetensors" \
    --init-from "$R/composed/cascade.safetensors" --data-seed 1048618 --steps 1500 --resume \
    >> "$R/sr1ft/sr1.log" 2>&1
  $DENO run -A training/export_cli.ts --runs "$R/sr1ft" --stages base,sr1 \
    --base "$R/composed/cascade.safetensors" --out "$R/export_sr1ft"
fi
$DENO task compose-cascades --target "$R/composed" --donor "$R/export_sr1ft" --parts sr1 --out "$OUT"
echo "default cascade rebuilt in $OUT"
