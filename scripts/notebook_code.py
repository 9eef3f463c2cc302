"""The notebook's own Python ("Síncrono vs Asíncrono"), cell by cell, for the live runner.

This module is the notebook's code, copied from its cells: the helpers (time_block,
get_memory_info) and every function the cells define (tarea_bloqueante, tarea_io, inc_sin_lock,
inc_con_lock, tarea_io_async, run_async, run_async_secuencial, cpu_intensivo, trabajo, espera,
tarea_normal, crear_lista_grande) keep their bodies as the notebook wrote them, Spanish comments
included. Each timed cell becomes one function `cell_<section>()` that runs the cell once and
returns what it computed; scripts/notebook_python.py repeats, verifies and reports them.

What a harness had to change is marked `# harness:` where it is changed:
- time_block records the time of its block (perf_counter, as the notebook's does, plus the CPU
  time) instead of printing it; the region it times is the notebook's `with time_block(...)`;
- the durations and counts the notebook wrote as literals (`time.sleep(0.5)`, `range(5)`,
  `[2_000_00] * 4`, ...) are module globals set by configure(), whose defaults are the
  notebook's values, so that --quick can shrink them;
- top-level `await` becomes `asyncio.run(...)` (a script has no running event loop);
- a cell returns its results, so that they can be checked, and resets its counters, so that each
  repetition is a fresh run;
- section 6 has no time_block in the notebook; its list is timed from creation to `del`.

The module is importable without side effects (nothing runs at import), and every function a
process pool sends to a worker is defined at the top level, so it pickles by name under any
multiprocessing start method. The pools use the platform's default start method (fork on Linux
up to Python 3.13), as the notebook did.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass

# Intentamos importar 'resource' para Linux/macOS
try:
    import resource  # type: ignore
    _HAS_RESOURCE = True
except Exception:
    _HAS_RESOURCE = False

import asyncio
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed


# --- harness: what time_block records, and a test hook ------------------------------------------

@dataclass
class Tiempo:
    """One timed block: its label, wall seconds (perf_counter), CPU seconds of this process
    (process_time: every thread) and CPU seconds of this process plus its reaped children."""
    label: str
    wall_s: float
    cpu_s: float
    cpu_all_s: float


# harness: the blocks timed since the runner last cleared the list.
tiempos: list[Tiempo] = []

# harness, for tests only: a message that the next time_block raises as RuntimeError when it is
# entered, so that a cell fails from inside its own code (see notebook_python.py, FAULT_ENV).
falla_de_prueba: str | None = None


def _cpu_self_and_children() -> float:
    if not _HAS_RESOURCE:
        return time.process_time()
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


# --- harness: the notebook's literals, as parameters ---------------------------------------------
# The defaults are the notebook's values; configure() replaces them (--quick).

PAUSA_S = 0.1               # §0   time.sleep(0.1)
SINCRONO_TAREAS = 5         # §1   range(5)
SINCRONO_SLEEP_S = 0.5      # §1   tarea_bloqueante: time.sleep(0.5)
HILOS_TAREAS = 5            # §2   range(5)
HILOS_WORKERS = 5           # §2   ThreadPoolExecutor(max_workers=5)
HILOS_SLEEP_S = 0.5         # §2   tarea_io: time.sleep(0.5)
ASYNC_TAREAS = 5            # §3   run_async: range(5)
ASYNC_SLEEP_S = 0.5         # §3   tarea_io_async: await asyncio.sleep(0.5)
SECUENCIAL_TAREAS = 5       # §3.1 run_async_secuencial: range(5)
SECUENCIAL_SLEEP_S = 0.3    # §3.1 run_async_secuencial: await asyncio.sleep(0.3)
CPU_TAREAS = 4              # §4   datos = [2_000_00] * 4
CPU_N = 2_000_00            # §4
TRABAJO_TAREAS = 200        # §4.1 valores = list(range(200))
CHUNKSIZE = 20              # §4.1 ex.map(trabajo, valores, chunksize=20)
EDGE_TAREAS = 5             # §5.2 range(5)
EDGE_WORKERS = 5            # §5.2 ThreadPoolExecutor(max_workers=5)
EDGE_SLEEP_S = 0.2          # §5.2 espera: time.sleep(0.2)
NORMAL_TAREAS = 4           # §5.3 range(4)
LISTA_N = 300_000           # §6   crear_lista_grande(300_000)

PARAMETROS = ("PAUSA_S", "SINCRONO_TAREAS", "SINCRONO_SLEEP_S", "HILOS_TAREAS", "HILOS_WORKERS",
              "HILOS_SLEEP_S", "N", "ASYNC_TAREAS", "ASYNC_SLEEP_S", "SECUENCIAL_TAREAS",
              "SECUENCIAL_SLEEP_S", "CPU_TAREAS", "CPU_N", "TRABAJO_TAREAS", "CHUNKSIZE",
              "EDGE_TAREAS", "EDGE_WORKERS", "EDGE_SLEEP_S", "NORMAL_TAREAS", "LISTA_N")


def configure(**values) -> None:
    """Sets the notebook's literals (names in PARAMETROS) for the cells that follow."""
    for name, value in values.items():
        if name not in PARAMETROS:
            raise KeyError(f"configure: unknown parameter {name!r}")
        globals()[name] = value


# =================================================================================================
# Utilidades: medir tiempo y observar memoria (notebook cell In [20])

@contextmanager
def time_block(label: str = "tarea"):
    """Mide el tiempo transcurrido dentro del bloque.
    Uso:
    with time_block("descargas"):
        ...
    """
    if falla_de_prueba is not None:  # harness: the test hook (never set outside tests)
        raise RuntimeError(falla_de_prueba)
    c0 = time.process_time()  # harness: CPU time of the same block
    u0 = _cpu_self_and_children()  # harness
    t0 = time.perf_counter()
    try:
        yield
    finally:
        dt = time.perf_counter() - t0
        # harness: recorded instead of printed (print(f"[{label}] tiempo: {dt:.3f} s"))
        tiempos.append(Tiempo(label, dt, time.process_time() - c0,
                              _cpu_self_and_children() - u0))


def get_memory_info():
    """Devuelve info de memoria del proceso actual en una tupla (rss_kb, texto_libre).
    - En Linux/macOS, intenta usar 'resource' (ru_maxrss)
    - En Linux, como alternativa, lee /proc/self/status
    """
    rss_kb = None
    text = []

    if _HAS_RESOURCE:
        try:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            # Nota: en Linux ru_maxrss suele ser KB; en macOS, bytes/1024
            rss_kb = int(usage.ru_maxrss)
            text.append(f"ru_maxrss: {rss_kb} KB (interprete del SO)")
        except Exception as e:
            text.append(f"resource fallo: {e}")

    # Intento /proc/self/status (Linux)
    status_path = "/proc/self/status"
    if os.path.exists(status_path):
        try:
            with open(status_path, "r") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        text.append(line.strip())
                    if line.startswith("VmSize:"):
                        text.append(line.strip())
        except Exception as e:
            text.append(f"/proc/self/status fallo: {e}")

    return rss_kb, " | ".join(text) if text else "sin datos"


def cell_0():
    """§0: the 0.1 s pause that tries the helpers."""
    rss_kb, info = get_memory_info()
    print("Mem info inicial:", info)
    with time_block("pausa de 0.1s"):
        time.sleep(PAUSA_S)  # harness: time.sleep(0.1)
    return None


# =================================================================================================
# 1) Sencillo y bloqueante (síncrono) (In [21])

def tarea_bloqueante(i: int) -> str:
    # Simula una operación que tarda (p. ej., E/S)
    time.sleep(SINCRONO_SLEEP_S)  # harness: time.sleep(0.5)
    return f"ok {i}"


def cell_1():
    with time_block("sincrono: 5 tareas * 0.5s"):
        resultados = []
        for i in range(SINCRONO_TAREAS):  # harness: range(5)
            # No se inicia la siguiente hasta que termina la actual
            resultados.append(tarea_bloqueante(i))

    print("Resultados:", resultados)
    return resultados  # harness: the results, for the checksum


# =================================================================================================
# 2) Concurrencia con hilos (I/O simulado) (In [22])

def tarea_io(i: int) -> str:
    # Simula una espera I/O
    time.sleep(HILOS_SLEEP_S)  # harness: time.sleep(0.5)
    return f"ok {i}"


def cell_2():
    with time_block("hilos: 5 tareas * 0.5s con 5 workers"):
        with ThreadPoolExecutor(max_workers=HILOS_WORKERS) as ex:  # harness: max_workers=5
            futuros = [ex.submit(tarea_io, i) for i in range(HILOS_TAREAS)]  # harness: range(5)
            # Procesamos en el orden en que terminen (opcional)
            resultados = [f.result() for f in as_completed(futuros)]

    print("Resultados (orden de finalización):", resultados)
    return resultados  # harness


# =================================================================================================
# 2.1) Hilos y estado compartido: carrera y Lock (In [23])

N = 100_000
contador = 0

# Caso sin lock (puede perder incrementos)
def inc_sin_lock():
    global contador
    for _ in range(N):
        contador += 1  # no atómico

# Caso con lock (correcto)
contador2 = 0
lock = threading.Lock()

def inc_con_lock():
    global contador2
    for _ in range(N):
        with lock:  # sección crítica protegida
            contador2 += 1


def cell_2_1_sin_lock():
    """The race half of §2.1; returns (expected, obtained)."""
    global contador
    contador = 0  # harness: a fresh counter for every repetition
    # Ejecutamos ambos casos
    h1 = threading.Thread(target=inc_sin_lock)
    h2 = threading.Thread(target=inc_sin_lock)
    with time_block("hilos sin lock"):
        h1.start(); h2.start(); h1.join(); h2.join()
    print("Esperado:", 2*N, "Obtenido:", contador)
    return 2 * N, contador  # harness


def cell_2_1_con_lock():
    """The lock half of §2.1; returns (expected, obtained)."""
    global contador2
    contador2 = 0  # harness: a fresh counter for every repetition
    h3 = threading.Thread(target=inc_con_lock)
    h4 = threading.Thread(target=inc_con_lock)
    with time_block("hilos con lock"):
        h3.start(); h4.start(); h3.join(); h4.join()
    print("Esperado:", 2*N, "Obtenido:", contador2)
    return 2 * N, contador2  # harness


# =================================================================================================
# 3) Asíncrono con asyncio (I/O no bloqueante) (In [24])

async def tarea_io_async(i: int) -> str:
    # Simula E/S no bloqueante: cede el control por 0.5s
    await asyncio.sleep(ASYNC_SLEEP_S)  # harness: await asyncio.sleep(0.5)
    return f"ok {i}"

async def run_async():
    # Lanzamos varias tareas y esperamos a que todas terminen
    # harness: range(ASYNC_TAREAS) was range(5)
    tareas = [asyncio.create_task(tarea_io_async(i)) for i in range(ASYNC_TAREAS)]
    return await asyncio.gather(*tareas)

async def _driver():
    # En notebooks, el event loop ya está activo; usamos await en vez de asyncio.run
    with time_block("asyncio: 5 tareas * 0.5s"):
        resultados = await run_async()
        print("Resultados:", resultados)
    return resultados  # harness


def cell_3():
    # Top-level await funciona en Jupyter/IPython
    return asyncio.run(_driver())  # harness: the notebook's top-level `await _driver()`


async def run_async_memoria(tareas_n: int, al_pendiente):
    """harness (memory mode, not a notebook cell): run_async for tareas_n tasks, calling
    al_pendiente() once every task has started and is waiting in tarea_io_async's asyncio.sleep."""
    tareas = [asyncio.create_task(tarea_io_async(i)) for i in range(tareas_n)]
    # One yield to the loop: every task created above is already in the loop's ready queue, and
    # this coroutine resumes only after each of them has run up to its asyncio.sleep.
    await asyncio.sleep(0)
    al_pendiente()
    return await asyncio.gather(*tareas)


# =================================================================================================
# 3.1) Asíncrono sin concurrencia efectiva (In [25])

async def run_async_secuencial():
    r = []
    # Ejecutamos una tras otra; el tiempo total será cercano a 5 * 0.3s
    for i in range(SECUENCIAL_TAREAS):  # harness: range(5)
        await asyncio.sleep(SECUENCIAL_SLEEP_S)  # harness: await asyncio.sleep(0.3)
        r.append(i)
    return r

async def _driver_seq():
    # En notebooks, evitamos asyncio.run y usamos top-level await
    with time_block("asyncio secuencial: 5 * 0.3s"):
        resultados = await run_async_secuencial()  # harness: kept for the checksum
        print(resultados)  # harness: was print(await run_async_secuencial())
    return resultados  # harness


def cell_3_1():
    """§3.1, and §5.1 too: §5.1's _driver_edge_seq (below) times the same coroutine, so one
    measurement stands for both cells."""
    return asyncio.run(_driver_seq())  # harness: await _driver_seq()


# =================================================================================================
# 4) Paralelismo con procesos (CPU-bound) (In [26])

def cpu_intensivo(n: int) -> int:
    # Simula trabajo pesado de CPU (sin esperas)
    s = 0
    for i in range(n):
        s += (i * i) % 97
    return s


def cell_4_serial():
    """harness: not a notebook cell. §4's four cpu_intensivo calls one after another, the serial
    time its threads and processes are measured against (threads ÷ serial ≈ 1 is the GIL)."""
    datos = [CPU_N] * CPU_TAREAS  # harness: [2_000_00] * 4
    with time_block("harness: serial baseline"):
        res_serial = [cpu_intensivo(n) for n in datos]
    return res_serial


def cell_4_threads():
    """§4, threads half. Returns the results and the executor (for its worker count)."""
    # Comparamos threads vs processes para CPU-bound
    datos = [CPU_N] * CPU_TAREAS  # cuatro trabajos similares  # harness: [2_000_00] * 4

    with time_block("threads CPU-bound (GIL limita)"):
        with ThreadPoolExecutor() as ex:
            res_threads = list(ex.map(cpu_intensivo, datos))
    return res_threads, ex  # harness


def cell_4_processes():
    """§4, processes half. Returns the results and the executor (for ex._max_workers)."""
    datos = [CPU_N] * CPU_TAREAS  # harness: [2_000_00] * 4
    with time_block("processes CPU-bound (paralelismo real)"):
        with ProcessPoolExecutor() as ex:
            res_processes = list(ex.map(cpu_intensivo, datos))

    # harness: the cell's closing print(len(res_threads), len(res_processes)) is left out: the
    # two halves are two benchmarks.
    return res_processes, ex  # harness


# =================================================================================================
# 4.1) Coste de serialización y chunksize (map con procesos) (In [27])

# Función sencilla "CPU-bound" para ejemplificar

def trabajo(x: int) -> int:
    total = 0
    for i in range(50_000):
        total += (x + i) % 97
    return total


def cell_4_1_sin_chunksize():
    valores = list(range(TRABAJO_TAREAS))  # harness: list(range(200))

    with time_block("processes map sin chunksize"):
        with ProcessPoolExecutor() as ex:
            res1 = list(ex.map(trabajo, valores))
    return res1, ex  # harness


def cell_4_1_con_chunksize():
    valores = list(range(TRABAJO_TAREAS))  # harness: list(range(200))
    with time_block("processes map con chunksize=20"):
        with ProcessPoolExecutor() as ex:
            res2 = list(ex.map(trabajo, valores, chunksize=CHUNKSIZE))  # harness: chunksize=20

    # harness: the cell's closing print(len(res1), len(res2)) is left out (two benchmarks).
    return res2, ex  # harness


# =================================================================================================
# 5.1) Asíncrono sin concurrencia efectiva (In [28])

# Reutilizamos run_async_secuencial definido antes
async def _driver_edge_seq():
    # harness: not run; it times the same coroutine as §3.1's _driver_seq (its label's 0.2 s
    # notwithstanding: the notebook measured 1.505 s), so cell_3_1 stands for both cells.
    with time_block("edge: async secuencial (5 * 0.2s)"):
        print(await run_async_secuencial())


# =================================================================================================
# 5.2) Concurrente sin asíncrono (hilos) (In [29])

def espera(i: int) -> str:
    time.sleep(EDGE_SLEEP_S)  # harness: time.sleep(0.2)
    return f"fin {i}"


def cell_5_2():
    with time_block("edge: hilos bloqueantes (5 * 0.2s, 5 workers)"):
        with ThreadPoolExecutor(max_workers=EDGE_WORKERS) as ex:  # harness: max_workers=5
            resultados = list(ex.map(espera, range(EDGE_TAREAS)))  # harness: range(5); kept
            print(resultados)  # harness: was print(list(ex.map(espera, range(5))))
    return resultados  # harness


# =================================================================================================
# 5.3) Paralelo sin "estilo asíncrono" (procesos) (In [30])

def tarea_normal(x: int) -> int:
    total = 0
    for i in range(300_000):
        total += (x + i) % 101
    return total


def cell_5_3():
    with time_block("edge: procesos secuenciales en paralelo"):
        with ProcessPoolExecutor() as ex:
            resultados = list(ex.map(tarea_normal, range(NORMAL_TAREAS)))  # harness: range(4); kept
            print(resultados)  # harness: was print(list(ex.map(tarea_normal, range(4))))
    return resultados, ex  # harness


# =================================================================================================
# 6) Notas rápidas sobre memoria y GIL (In [31])

# Observamos memoria (muy básico)

def crear_lista_grande(n: int):
    # Evitar tamaños enormes; esto es ilustrativo
    return [i for i in range(n)]


def cell_6():
    """Returns (sum of the list, info before, info after): get_memory_info's texts."""
    rss_kb_before, info_before = get_memory_info()
    print("Antes:", info_before)

    # harness: the notebook has no time_block here; the list's creation and its `del` are timed,
    # as concbench's sync/alloc times its vector's creation and release. The memory readings and
    # the checksum stay outside the timed blocks.
    with time_block("crear_lista_grande"):
        data = crear_lista_grande(LISTA_N)  # crea cierta presión de memoria  # harness: 300_000
    rss_kb_after, info_after = get_memory_info()
    print("Después:", info_after)
    suma = sum(data)  # harness: the checksum

    # Evitar retener memoria innecesaria
    with time_block("del data"):  # harness
        del data
    return suma, info_before, info_after  # harness
